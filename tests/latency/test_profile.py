"""Table builds: overhead correction, incremental resume after an interrupt, protocol record."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from latency import bundle_runner as runner
from latency.enumerate import space_signatures
from latency.profile import build_table
from latency.signature import arch_signatures
from latency.table import LatencyTable
from space import Arch, SearchSpace
from tests.latency.latency_fakes import FakeMeasurer, true_ms


class FakeClock:
    """A clock that advances one second per reading."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


def test_corrected_entries_recover_the_layer_cost(tmp_path: Path, tiny_space: SearchSpace) -> None:
    sigs = space_signatures(tiny_space)
    table = build_table(sigs, tmp_path / "t.json", measurer=FakeMeasurer(), device={"name": "fake"})
    assert table.network_overhead_ms == pytest.approx(FakeMeasurer.call_ms)
    # A network costs its layers plus one call; the naive sum would add a call per layer and
    # the reorders of every intermediate tensor.
    rng = np.random.default_rng(3)
    for _ in range(5):
        arch = tiny_space.sample(rng)
        expected = FakeMeasurer.call_ms + sum(true_ms(s) for s in arch_signatures(arch))
        naive = sum(FakeMeasurer().layer(s)["median_ms"] for s in arch_signatures(arch))
        assert table.predict(arch) == pytest.approx(expected, rel=1e-12)
        assert naive > 1.2 * expected
    assert table.protocol["layout_reorders"] is True
    assert table.protocol["name"] == runner.PROTOCOL_NAME
    assert "overhead" in table.protocol


def test_corrected_entry_floor() -> None:
    raw = {"median_ms": 0.010, "mean_ms": 0.011, "std_ms": 0.001, "runs": 9}
    entry = runner.corrected_entry(raw, call_ms=0.02)
    assert entry["median_ms"] == pytest.approx(0.0005)
    assert entry["runs"] == 9 and entry["source"] == "measured"
    assert runner.reorder_cost(0.005, 0.01) == 0.0


def test_interrupted_build_keeps_entries_and_resumes(
    tmp_path: Path, tiny_space: SearchSpace
) -> None:
    sigs = space_signatures(tiny_space)
    out = tmp_path / "t.json"
    first = FakeMeasurer(fail_after=10)
    with pytest.raises(KeyboardInterrupt):
        build_table(
            sigs,
            out,
            measurer=first,
            device={"name": "fake", "threads": 1},
            clock=FakeClock(),
            save_every_s=3.0,
        )
    saved = LatencyTable.load(out)
    assert len(saved.entries) == 10
    assert set(saved.entries) == set(first.layers)
    second = FakeMeasurer()
    progress: list[tuple[int, int]] = []
    table = build_table(sigs, out, measurer=second, progress=lambda d, t: progress.append((d, t)))
    assert len(second.layers) == len(sigs) - 10
    assert not set(second.layers) & set(first.layers)
    assert len(table.entries) == len(sigs)
    assert progress[0] == (10, len(sigs)) and progress[-1] == (len(sigs), len(sigs))
    # Reorder probes were not re-measured for shapes the first run had already timed.
    assert not {runner.shape_key(s) for s in second.reorders} & {
        runner.shape_key(s) for s in first.reorders
    }


def test_periodic_saves_during_a_build(tmp_path: Path, tiny_space: SearchSpace) -> None:
    sigs = space_signatures(tiny_space)
    out = tmp_path / "t.json"
    sizes: list[int] = []

    class Watching(FakeMeasurer):
        def layer(self, signature):  # type: ignore[no-untyped-def]
            if out.exists():
                sizes.append(len(json.loads(out.read_text())["entries"]))
            return super().layer(signature)

    build_table(
        sigs,
        out,
        measurer=Watching(),
        device={"name": "f", "threads": 1},
        clock=FakeClock(),
        save_every_s=5.0,
    )
    assert sizes and max(sizes) >= len(sigs) - 6
    assert LatencyTable.load(out).entries.keys() == {s.key for s in sigs}


def test_thread_mismatch_and_corrupt_file_are_errors(
    tmp_path: Path, tiny_space: SearchSpace
) -> None:
    sigs = space_signatures(tiny_space)[:3]
    out = tmp_path / "t.json"
    build_table(sigs, out, measurer=FakeMeasurer(), device={"name": "f", "threads": 1})
    with pytest.raises(ValueError, match="measured at 1 threads, not 2"):
        build_table(sigs, out, threads=2, measurer=FakeMeasurer())
    out.write_text("{not json")
    with pytest.raises(ValueError, match="corrupt"):
        build_table(sigs, out, measurer=FakeMeasurer())
    with pytest.raises(ValueError, match="threads must be >= 1"):
        build_table(sigs, tmp_path / "u.json", threads=0, measurer=FakeMeasurer())


@pytest.mark.onnx
def test_real_measurement_of_a_few_layers(tmp_path: Path, tiny_space: SearchSpace) -> None:
    from latency.profile import OrtMeasurer

    sigs = space_signatures(tiny_space)[:4]
    timing = {"warmup": 1, "min_runs": 3, "max_runs": 5, "budget_s": 0.001}
    table = build_table(sigs, tmp_path / "t.json", measurer=OrtMeasurer(1, timing))
    assert len(table.entries) == 4
    assert all(0 < e.median_ms < 50 and e.runs >= 3 for e in table.entries.values())
    assert table.device["threads"] == 1 and table.device["runtime"].startswith("onnxruntime")
    assert table.device["name"].startswith("local-") and table.device["name"].endswith("-1t")
    assert 0 < table.network_overhead_ms < 1


def test_calibration_fit_is_the_median_ratio_and_ignores_one_slow_network() -> None:
    sums = [1.0, 2.0, 4.0, 8.0, 3.0]
    measured = [0.02 + 1.05 * s for s in sums]
    measured[2] *= 1.5  # one network measured in a slow moment
    fit = runner.fit_calibration(sums, measured, overhead_ms=0.02)
    assert fit["scale"] == pytest.approx(1.05)
    assert fit["overhead_ms"] == 0.02 and fit["per_layer_ms"] == 0.0 and fit["networks"] == 5
    assert fit["ratio_range"][1] == pytest.approx((0.02 + 1.05 * 4.0) * 1.5 / 4.0 - 0.005)
    with pytest.raises(ValueError, match="at least 4 networks, got 2"):
        runner.fit_calibration(sums[:2], measured[:2], overhead_ms=0.02)
    with pytest.raises(ValueError, match="got 4 sums and 5 networks"):
        runner.fit_calibration(sums[:4], measured, overhead_ms=0.02)


def test_build_calibrates_on_networks_measured_between_its_entries(
    tmp_path: Path, tiny_space: SearchSpace
) -> None:
    rng = np.random.default_rng(0)
    networks = [tiny_space.sample(rng) for _ in range(4)]
    sigs = space_signatures(tiny_space)
    measurer = FakeMeasurer()
    out = tmp_path / "t.json"
    table = build_table(
        sigs,
        out,
        measurer=measurer,
        device={"name": "f", "threads": 1},
        calibrate_on=networks,
        calibration_passes=2,
    )
    # 8 network measurements spread over the 37 layer measurements, the last one at the end.
    positions = [i for i, call in enumerate(measurer.calls) if call == "network"]
    assert len(positions) == 8 and positions[0] < len(measurer.calls) / 4
    assert measurer.calls[-1] == "network"
    fit = table.protocol["calibration"]
    assert fit["scale"] == pytest.approx(FakeMeasurer.in_network_factor)
    assert fit["passes"] == 2 and fit["archs"] == [a.to_str() for a in networks]
    for arch in networks:
        assert table.predict(arch) == pytest.approx(measurer.network(arch)["median_ms"])
    # Reloaded and extended: no second calibration, new entries scaled like the others.
    other = space_signatures(tiny_space.with_task(3, 100))
    again = build_table(sigs + other, out, measurer=FakeMeasurer(), calibrate_on=networks)
    assert again.protocol["calibration"] == fit
    plain = build_table(sigs + other, tmp_path / "plain.json", measurer=FakeMeasurer())
    new = next(s for s in other if s.key not in table.entries)
    assert again.entries[new.key].median_ms == pytest.approx(
        FakeMeasurer.in_network_factor * plain.entries[new.key].median_ms
    )


def test_build_refuses_too_few_calibration_networks_before_measuring(
    tmp_path: Path, tiny_space: SearchSpace
) -> None:
    rng = np.random.default_rng(0)
    measurer = FakeMeasurer()
    with pytest.raises(ValueError, match="0 \\(none\\) or at least 4 networks, got 2"):
        build_table(
            space_signatures(tiny_space),
            tmp_path / "t.json",
            measurer=measurer,
            calibrate_on=[tiny_space.sample(rng) for _ in range(2)],
        )
    assert measurer.calls == [] and not (tmp_path / "t.json").exists()


def test_measure_in_passes_goes_over_all_networks_once_per_pass(tiny_space: SearchSpace) -> None:
    from latency.profile import measure_in_passes

    rng = np.random.default_rng(0)
    archs = [tiny_space.sample(rng) for _ in range(3)]
    order: list[str] = []
    seen: list[tuple[int, int]] = []

    def measure(arch: Arch) -> float:
        order.append(arch.to_str())
        return float(len(order))

    runs = measure_in_passes(archs, measure, 2, progress=lambda d, t: seen.append((d, t)))
    assert order == [a.to_str() for a in archs] * 2
    assert runs == [[1.0, 4.0], [2.0, 5.0], [3.0, 6.0]]
    assert seen[-1] == (6, 6) and len(seen) == 6
    with pytest.raises(ValueError, match="passes must be >= 1, got 0"):
        measure_in_passes(archs, measure, 0)


def test_calibrated_table_predicts_the_fitted_relation_and_extends(
    tmp_path: Path, tiny_space: SearchSpace
) -> None:
    from latency.profile import calibrate_table

    sigs = space_signatures(tiny_space)
    out = tmp_path / "t.json"
    table = build_table(sigs[:20], out, measurer=FakeMeasurer(), device={"name": "f", "threads": 1})
    rng = np.random.default_rng(0)
    archs = [tiny_space.sample(rng) for _ in range(8)]
    table = build_table(sigs, out, measurer=FakeMeasurer())
    before = {a: table.predict(a) for a in archs}
    overhead = table.network_overhead_ms
    measured = [(a, overhead + 0.8 * (before[a] - overhead)) for a in archs]
    fit = calibrate_table(table, measured, seed=0)
    assert fit["scale"] == pytest.approx(0.8) and fit["overhead_ms"] == overhead
    for arch, ms in measured:
        assert table.predict(arch) == pytest.approx(ms)
    table.save(out)
    with pytest.raises(ValueError, match="already calibrated"):
        calibrate_table(table, measured)
    # Entries measured after the calibration get the same transformation.
    del table.entries[sigs[0].key]
    table.save(out)
    again = build_table(sigs, out, measurer=FakeMeasurer())
    assert again.entries[sigs[0].key].median_ms == pytest.approx(0.8 * true_ms(sigs[0]), rel=1e-9)


@pytest.mark.onnx
def test_strip_reorders_leaves_the_layer_as_a_network_runs_it() -> None:
    import onnx

    from latency.onnx_graphs import input_shape, layer_model, output_shape
    from latency.signature import Signature

    sig = Signature("pointwise", 8, 8, 40, 80, 1, 1)
    model = layer_model(sig).SerializeToString()
    if not runner.uses_layout_reorders(model, 1):
        assert runner.strip_reorders(model, 1, [1, 40, 8, 8], [1, 80, 8, 8]) is None
        return
    stripped = runner.strip_reorders(model, 1, list(input_shape(sig)), list(output_shape(sig)))
    assert stripped is not None
    data, shape = stripped
    ops = [node.op_type for node in onnx.load_from_string(data).graph.node]
    assert "ReorderInput" not in ops and "ReorderOutput" not in ops and ops == ["Conv"]
    # Channels padded to the runtime's block (8 or 16 on x86), as inside a network.
    assert shape[0] == 1 and shape[1] in (40, 48) and shape[2:] == [8, 8]
    timing = runner.time_session(runner.open_session(data, 1), shape, min_runs=2, max_runs=3)
    assert timing["runs"] >= 2 and timing["median_ms"] > 0


def test_extending_with_another_reorder_handling_is_refused(
    tmp_path: Path, tiny_space: SearchSpace
) -> None:
    sigs = space_signatures(tiny_space)
    out = tmp_path / "t.json"

    class Stripping(FakeMeasurer):
        reorder_handling = "stripped: test"

    build_table(sigs[:5], out, measurer=Stripping(), device={"name": "f", "threads": 1})
    assert LatencyTable.load(out).protocol["reorder_handling"] == "stripped: test"
    with pytest.raises(ValueError, match="as 'stripped', this build would as 'probed'"):
        build_table(sigs, out, measurer=FakeMeasurer())
    assert len(build_table(sigs, out, measurer=Stripping()).entries) == len(sigs)
