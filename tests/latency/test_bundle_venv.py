"""The bundle runner in fresh virtual environments with only numpy and onnxruntime (no torch).

Run on the oldest supported Python and onnxruntime as well as on the current ones, as the
runtimes boards have: old onnxruntime releases crashed a runner that bound temporary buffers.
"""

from __future__ import annotations

import glob
import json
import os
import platform
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from latency import bundle_runner as runner
from latency.devices import list_devices
from latency.table import LatencyTable
from search.cli import main

pytestmark = [pytest.mark.slow, pytest.mark.onnx]

OLDEST_PYTHON = ".".join(map(str, runner.MIN_PYTHON))
# What pip's failure says when the package index cannot be reached at all.
UNREACHABLE = (
    "NewConnectionError",
    "Network is unreachable",
    "Temporary failure in name resolution",
    "Name or service not known",
    "ProxyError",
    "Connection refused",
)


@dataclass(frozen=True)
class Runtime:
    """A board's software: Python (major.minor), onnxruntime version, numpy requirement."""

    python: str
    onnxruntime: str
    numpy: str


def _runtime(kind: str) -> Runtime:
    """The ``current`` runtimes (this interpreter and onnxruntime), or the ``oldest`` supported."""
    import onnxruntime

    if kind == "current":
        return Runtime(
            f"{sys.version_info[0]}.{sys.version_info[1]}", onnxruntime.__version__, "numpy"
        )
    # onnxruntime before 1.19 was built against numpy 1.
    return Runtime(OLDEST_PYTHON, runner.MIN_ONNXRUNTIME, "numpy<2")


def _interpreter(version: str) -> str:
    """A Python ``version`` (major.minor) interpreter, found where a developer would have one.

    This interpreter if it is that version, else ``$HWNAS_TEST_PYTHON<major><minor>``,
    ``python<version>`` on the PATH, or pyenv's newest ``<version>.*``.
    """
    if platform.python_version().startswith(f"{version}."):
        return sys.executable
    variable = "HWNAS_TEST_PYTHON" + version.replace(".", "")
    pyenv = os.environ.get("PYENV_ROOT", str(Path.home() / ".pyenv"))
    candidates = [
        os.environ.get(variable, ""),
        f"python{version}",
        *sorted(glob.glob(f"{pyenv}/versions/{version}.*/bin/python{version}"), reverse=True),
    ]
    for candidate in filter(None, candidates):
        try:
            probe = subprocess.run(
                [candidate, "-c", "import platform; print(platform.python_version())"],
                capture_output=True,
                text=True,
            )
        except OSError:
            continue
        if probe.returncode == 0 and probe.stdout.startswith(f"{version}."):
            return candidate
    pytest.fail(
        f"no Python {version} interpreter found (tried ${variable}, python{version} on the "
        f"PATH, {pyenv}/versions): install one or set {variable} to its path"
    )


def _bare_python(runtime: Runtime) -> Path:
    """A venv of ``runtime`` with numpy and onnxruntime only, cached between runs."""
    requirements = [runtime.numpy, f"onnxruntime=={runtime.onnxruntime}"]
    cache = Path(os.environ.get("HWNAS_TEST_VENVS", Path.home() / ".cache" / "hwnas-test-venvs"))
    numpy = runtime.numpy.replace("<", "-below-")
    root = cache / f"py{runtime.python}-ort{runtime.onnxruntime}-{numpy}"
    python = root / "bin" / "python"
    stamp = root / "installed"
    if not stamp.exists():
        subprocess.run(
            [_interpreter(runtime.python), "-m", "venv", "--clear", str(root)],
            check=True,
            timeout=300,
        )
        install = subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "--only-binary=:all:", *requirements],
            capture_output=True,
            text=True,
        )
        if install.returncode != 0 and any(word in install.stderr for word in UNREACHABLE):
            # Only the package index being unreachable skips; the runner itself is never skipped
            # once its environment exists.
            pytest.skip(f"cannot reach the package index to install {requirements}")
        assert install.returncode == 0, install.stderr
        stamp.touch()
    return python


@pytest.mark.parametrize("kind", ["current", "oldest"])
def test_runner_without_torch_and_import(
    kind: str, tmp_path: Path, tiny_config: Path, isolated_home: Path
) -> None:
    runtime = _runtime(kind)
    python = _bare_python(runtime)
    probe = subprocess.run([str(python), "-c", "import torch"], capture_output=True, text=True)
    assert probe.returncode != 0 and "No module named 'torch'" in probe.stderr
    folder = tmp_path / "bundle"
    assert (
        main(
            [
                "latency",
                "bundle",
                "--out",
                str(folder),
                "--config",
                str(tiny_config),
                "--min-runs",
                "3",
                "--max-runs",
                "5",
                "--budget-s",
                "0.001",
                "--calibrate",
                "4",
            ]
        )
        == 0
    )
    # Only the bundle folder: no hwnas, no repository on the path.
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path)}
    name = f"venv-board-{kind}"
    result = subprocess.run(
        [str(python), "run.py", "--threads", "1", "--name", name],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    out = folder / "table-1t.json"
    data = json.loads(out.read_text())
    assert data["schema_version"] == 1 and len(data["entries"]) == 37
    assert data["device"]["name"] == name and data["device"]["threads"] == 1
    # The table says it was measured by the runtimes this case claims to test.
    assert data["device"]["python"].startswith(f"{runtime.python}.")
    assert data["device"]["runtime"] == f"onnxruntime {runtime.onnxruntime}"
    assert data["protocol"]["measured_by"] == "bundle runner"
    # Calibrated on the 4 networks, each timed 3 times between the layers, without hwnas.
    fit = data["protocol"]["calibration"]
    assert fit["networks"] == 4 and fit["passes"] == 3 and fit["scale"] > 0
    assert [len(times) for times in data["network_raw"]] == [3] * 4
    assert main(["latency", "import", str(out)]) == 0
    info = {d.name: d for d in list_devices()}[name]
    assert info.source == "imported" and info.entries == 37
    table = LatencyTable.load(info.path)
    assert all(e.runs >= 3 for e in table.entries.values())
    assert table.protocol["calibration"] == fit
