"""Fixtures of the latency tests: a tiny space, a fake measurer, an isolated HWNAS_HOME."""

from __future__ import annotations

from pathlib import Path

import pytest

from space import SearchSpace

TINY_TOML = """\
resolutions = [32]
width_multipliers = [0.25, 0.5]
kernels = [3]
in_channels = 1
num_classes = 10
depths = [[1], [1], [1], [1, 2], [1]]
"""

QUICK = ["--warmup", "1", "--min-runs", "3", "--max-runs", "5", "--budget-s", "0.001"]


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
