"""The bundle runner in a fresh virtual environment with only numpy and onnxruntime (no torch)."""

from __future__ import annotations

import json
import os
import subprocess
import venv
from pathlib import Path

import pytest

from latency.devices import list_devices
from latency.table import LatencyTable
from search.cli import main

pytestmark = [pytest.mark.slow, pytest.mark.onnx]


def _bare_python() -> Path:
    """A venv with numpy and onnxruntime only, cached between runs (it takes a download)."""
    import onnxruntime

    root = Path(os.environ.get("HWNAS_TEST_VENV", Path.home() / ".cache" / "hwnas-test-venv"))
    python = root / "bin" / "python"
    stamp = root / f"ok-ort-{onnxruntime.__version__}"
    if not stamp.exists():
        venv.EnvBuilder(with_pip=True, clear=True).create(root)
        install = subprocess.run(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "--quiet",
                "numpy",
                f"onnxruntime=={onnxruntime.__version__}",
            ],
            capture_output=True,
            text=True,
        )
        if install.returncode != 0:
            # Only the package index being unreachable skips; the runner itself is never skipped
            # once its environment exists.
            pytest.skip(f"cannot install numpy + onnxruntime into a fresh venv: {install.stderr}")
        stamp.touch()
    return python


def test_runner_without_torch_and_import(
    tmp_path: Path, tiny_config: Path, isolated_home: Path
) -> None:
    python = _bare_python()
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
    result = subprocess.run(
        [str(python), "run.py", "--threads", "1", "--name", "venv-board"],
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
    assert data["device"]["name"] == "venv-board" and data["device"]["threads"] == 1
    assert data["device"]["runtime"].startswith("onnxruntime")
    assert data["protocol"]["measured_by"] == "bundle runner"
    # Calibrated on the 4 networks, each timed 3 times between the layers, without hwnas.
    fit = data["protocol"]["calibration"]
    assert fit["networks"] == 4 and fit["passes"] == 3 and fit["scale"] > 0
    assert [len(times) for times in data["network_raw"]] == [3] * 4
    assert main(["latency", "import", str(out)]) == 0
    info = {d.name: d for d in list_devices()}["venv-board"]
    assert info.source == "imported" and info.entries == 37
    table = LatencyTable.load(info.path)
    assert all(e.runs >= 3 for e in table.entries.values())
    assert table.protocol["calibration"] == fit
