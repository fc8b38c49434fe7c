"""A bundle with calibration networks: manifest, calibrated board table, resume, CLI refusal."""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

import pytest

from latency import bundle_runner as runner
from latency.bundle import write_bundle
from latency.enumerate import space_signatures
from latency.profile import build_table, calibration_networks
from latency.signature import arch_signatures
from latency.table import LatencyTable
from search.cli import main
from space import Arch, SearchSpace
from tests.latency.latency_fakes import FakeMeasurer

pytestmark = pytest.mark.onnx

# Short timings: the test checks the procedure, not the figures.
TIMING = {"warmup": 1, "min_runs": 3, "max_runs": 5, "budget_s": 0.001}
NETWORKS = 4
PASSES = 3


@pytest.fixture
def folder(tmp_path: Path, tiny_space: SearchSpace) -> Path:
    return write_bundle(
        space_signatures(tiny_space),
        tmp_path / "bundle",
        space=tiny_space.to_dict(),
        timing=TIMING,
        calibrate_on=calibration_networks(tiny_space, NETWORKS),
        network_budget_s=0.003,
    )


def _uncalibrated_sums(document: dict[str, Any], manifest: dict[str, Any]) -> list[float]:
    """Each network's sum of entries as the runner corrected them, before calibration."""
    call_ms = document["protocol"]["call_overhead_ms"]
    # No reorder pairs subtracted (stripped, or none on this runtime): an entry is its raw time
    # less the per-call overhead.
    assert document["protocol"]["reorder_ms"] == {}
    entries = {
        key: runner.corrected_entry(raw, call_ms)["median_ms"]
        for key, raw in document["raw"].items()
    }
    return [sum(entries[key] for key in n["layers"]) for n in manifest["calibration"]["networks"]]


def test_manifest_lists_the_calibration_networks(folder: Path, tiny_space: SearchSpace) -> None:
    manifest = json.loads((folder / "manifest.json").read_text())
    plan = manifest["calibration"]
    assert plan["passes"] == PASSES and plan["network_budget_s"] == 0.003
    archs = calibration_networks(tiny_space, NETWORKS)
    assert [n["arch"] for n in plan["networks"]] == [a.to_str() for a in archs]
    layer_keys = {item["key"] for item in manifest["layers"]}
    for arch, network in zip(archs, plan["networks"], strict=True):
        assert network["layers"] == [s.key for s in arch_signatures(arch, "relu", "fp32")]
        assert set(network["layers"]) <= layer_keys
        assert network["input_shape"] == [1, 1, 32, 32]
        # Its external weights resolve: the session opens and runs from the bundle's weights.bin.
        session = runner.open_session(folder / network["file"], 1)
        timed = runner.time_session(session, network["input_shape"], **TIMING)
        assert timed["runs"] >= 3
    assert "calibrates the table" in (folder / "README.txt").read_text()


def test_runner_writes_a_calibrated_table_like_a_local_build(
    folder: Path, tmp_path: Path, isolated_home: Path
) -> None:
    out = tmp_path / "board.json"
    logged: list[str] = []
    document = runner.run_bundle(folder, out, 1, name="board", log=logged.append)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert sum(line.startswith("[network ") for line in logged) == NETWORKS * PASSES
    assert [len(times) for times in document["network_raw"]] == [PASSES] * NETWORKS
    measured = [
        statistics.median(t["median_ms"] for t in times) for times in document["network_raw"]
    ]
    sums = _uncalibrated_sums(document, manifest)
    call_ms = document["protocol"]["call_overhead_ms"]
    fit = document["protocol"]["calibration"]
    ratios = [(m - call_ms) / s for m, s in zip(measured, sums, strict=True)]
    assert fit["scale"] == pytest.approx(statistics.median(ratios))
    assert fit["passes"] == PASSES and fit["networks"] == NETWORKS
    assert fit["archs"] == [n["arch"] for n in manifest["calibration"]["networks"]]
    assert fit["measured_ms"] == pytest.approx(measured)
    assert document["network_overhead_ms"] == call_ms == fit["overhead_ms"]
    # Imported, it predicts each calibration network as overhead + scale * sum of its entries.
    assert main(["latency", "import", str(out)]) == 0
    table = LatencyTable.load(isolated_home / "tables" / "board.json")
    assert table.protocol["calibration"] == fit
    for name, total in zip(fit["archs"], sums, strict=True):
        assert table.predict(Arch.parse(name)) == pytest.approx(call_ms + fit["scale"] * total)
    # The calibration record has the form of a local calibrated build's.
    archs = [Arch.parse(name) for name in fit["archs"]]
    local = build_table(
        [s for arch in archs for s in arch_signatures(arch, "relu", "fp32")],
        tmp_path / "local.json",
        measurer=FakeMeasurer(),
        calibrate_on=archs,
    )
    assert set(local.protocol["calibration"]) == set(fit)


def test_a_resumed_run_keeps_the_network_times(folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "board.json"
    layers = len(json.loads((folder / "manifest.json").read_text())["layers"])
    stop_at = 20

    def interrupt(line: str) -> None:
        if line.startswith(f"[{stop_at}/"):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        runner.run_bundle(folder, out, 1, log=interrupt)
    partial = json.loads(out.read_text())
    assert len(partial["raw"]) == stop_at and "calibration" not in partial["protocol"]
    # Spread as a build spreads them: due after the 19 layers before the interrupted log line.
    kept = partial["network_raw"]
    assert sum(map(len, kept)) == runner.networks_due(stop_at - 1, layers, NETWORKS * PASSES) > 0
    logged: list[str] = []
    document = runner.run_bundle(folder, out, 1, log=logged.append)
    assert sum(line.startswith("[network ") for line in logged) == NETWORKS * PASSES - sum(
        map(len, kept)
    )
    assert all(
        times[: len(before)] == before
        for times, before in zip(document["network_raw"], kept, strict=True)
    )
    assert document["protocol"]["calibration"]["networks"] == NETWORKS
    # A finished table re-run measures nothing and refits the same calibration.
    again = runner.run_bundle(folder, out, 1)
    assert again["protocol"]["calibration"] == document["protocol"]["calibration"]
    assert again["entries"] == document["entries"]


def test_a_bundle_without_networks_is_not_calibrated(
    tmp_path: Path, tiny_space: SearchSpace
) -> None:
    folder = write_bundle(space_signatures(tiny_space), tmp_path / "bundle", timing=TIMING)
    assert "calibration" not in json.loads((folder / "manifest.json").read_text())
    document = runner.run_bundle(folder, tmp_path / "board.json", 1)
    assert "calibration" not in document["protocol"] and document["network_raw"] == []
    assert document["network_overhead_ms"] == document["protocol"]["call_overhead_ms"]


def test_schedule_spreads_passes_between_layers() -> None:
    assert runner.calibration_schedule(3, 2) == [0, 1, 2, 0, 1, 2]
    assert [runner.networks_due(k, 4, 6) for k in range(5)] == [0, 1, 3, 4, 6]
    assert runner.networks_due(0, 0, 6) == 6


def test_bundle_refuses_a_calibration_on_too_few_networks(
    tmp_path: Path, tiny_config: Path, tiny_space: SearchSpace, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "bundle"
    args = ["latency", "bundle", "--out", str(out), "--config", str(tiny_config)]
    assert main([*args, "--calibrate", "2"]) == 2
    err = capsys.readouterr().err
    assert "--calibrate must be 0 (no calibration) or >= 4 networks, got 2" in err
    assert not out.exists()
    outside = Arch.parse(calibration_networks(tiny_space, 1)[0].to_str().replace("r32", "r64"))
    with pytest.raises(ValueError, match="not among the bundle's signatures"):
        write_bundle(space_signatures(tiny_space), out, calibrate_on=[outside] * 4)
    assert main([*args, "--calibrate", "0"]) == 0
    assert "calibration" not in json.loads((out / "manifest.json").read_text())
