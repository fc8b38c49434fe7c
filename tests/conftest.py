"""Fixtures shared across the test packages (kept small: most tests build their own data)."""

from __future__ import annotations

import numpy as np
import pytest

from space import SearchSpace


@pytest.fixture(scope="session")
def default_space() -> SearchSpace:
    """The packaged default search space (immutable, so one per session)."""
    return SearchSpace.default()


@pytest.fixture
def rng() -> np.random.Generator:
    """A fixed-seed generator; tests that need another seed make their own."""
    return np.random.default_rng(0)
