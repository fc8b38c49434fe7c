"""Fixtures shared across the test packages (kept small: most tests build their own data)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from space import SearchSpace
from tests.latency.latency_fakes import TINY_TOML


@pytest.fixture(scope="session")
def default_space() -> SearchSpace:
    """The packaged default search space (immutable, so one per session)."""
    return SearchSpace.default()


@pytest.fixture
def rng() -> np.random.Generator:
    """A fixed-seed generator; tests that need another seed make their own."""
    return np.random.default_rng(0)


@pytest.fixture
def tiny_config(tmp_path: Path) -> Path:
    """A space config with a few dozen signatures at 32x32."""
    path = tmp_path / "tiny.toml"
    path.write_text(TINY_TOML)
    return path


@pytest.fixture
def tiny_space(tiny_config: Path) -> SearchSpace:
    """The space of `tiny_config`."""
    return SearchSpace.from_toml(tiny_config)


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own HWNAS_HOME, so no test reads or writes the user's tables."""
    home = tmp_path / "hwnas-home"
    monkeypatch.setenv("HWNAS_HOME", str(home))
    return home


@pytest.fixture
def first_format_space() -> dict[str, object]:
    """The default space, for 1 channel and 10 classes, in the config format before [[stages]]
    (as run.json files of earlier runs hold it)."""
    return {
        "resolutions": [128, 160, 192, 224],
        "width_multipliers": [0.25, 0.375, 0.5, 0.625, 0.75, 1.0],
        "kernels": [3, 5, 7],
        "depths": [[1, 2], [1, 2, 3], [1, 2, 3], [2, 3, 4, 5, 6], [1, 2]],
        "in_channels": 1,
        "num_classes": 10,
    }
