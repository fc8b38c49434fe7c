"""``hwnas report`` and the plots: files exist, are real pictures, and carry the run's numbers."""

from __future__ import annotations

from pathlib import Path

import pytest

from search.analysis.layer_costs import layer_costs, op_summaries
from search.analysis.trials import trials_info
from search.cli import main
from search.report.markdown import write_report
from search.report.plots import plot_trials_png
from search.run.directory import Run
from space import Arch, count_macs
from tests.search.run_fixture import LARGE, SMALL, make_run, make_table

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _is_png(path: Path) -> bool:
    data = path.read_bytes()
    return data.startswith(PNG_MAGIC) and len(data) > 10_000


def test_layer_costs_match_table_and_counts() -> None:
    arch = Arch.parse(LARGE)
    table = make_table([arch])
    costs = layer_costs(arch, table)
    assert [c.name for c in costs][:3] == ["stem", "s1.b1.dw", "s1.b1.pw"]
    assert sum(c.macs for c in costs) == count_macs(arch)
    assert sum(c.ms for c in costs) + table.network_overhead_ms == pytest.approx(
        table.predict(arch)
    )
    dw = costs[1]
    # 16x16 output, 16 channels, 5x5 kernel; input + output + weights in fp32.
    assert dw.macs == 16 * 16 * 16 * 25
    assert dw.bytes_moved == 4 * (16 * 16 * 16 * 2 + 16 * 25)
    assert dw.intensity == pytest.approx(dw.macs / dw.bytes_moved)
    assert dw.gmacs_per_s == pytest.approx(dw.macs / (dw.ms * 1e6))
    summaries = op_summaries(costs)
    assert [s.op for s in summaries] == ["stem", "depthwise", "pointwise", "head"]
    assert sum(s.time_share for s in summaries) == pytest.approx(1.0)
    assert [s.layers for s in summaries] == [1, 4, 4, 1]


def test_report_sections_and_numbers(tmp_path: Path) -> None:
    run_dir = make_run(tmp_path / "run")
    result = write_report(run_dir)
    assert result.chosen.number == 7  # most accurate under the 5 ms target
    text = result.path.read_text()
    for heading in (
        "## Run",
        "### Settings",
        "## Latency table",
        "### Provenance",
        "## Pareto front",
        "## MobileNetV1 baselines",
        "## Plots",
        "## Chosen network: trial 7",
        "### Per-layer latency breakdown",
    ):
        assert heading in text, heading
    assert "hwnas search --target-ms 5 --trials 9 --dataset synthetic" in text
    assert "| source | tests/search/run_fixture.py |" in text
    assert f"| 7 **←** | 4.000 | 90.00 | 1.3 | 0.012 | `{LARGE}` |" in text
    assert "| mobilenet_v1_0.5_128 | 1 | infeasible | 9.000 | – |" in text
    assert (
        "| mobilenet_v1_0.25_128 | trial 3, 2.000 ms | 1.50× | trial 3, 85.00 % | +5.00 |" in text
    )
    for name in ("trials.png", "trials.html", "progress.png", "roofline.png"):
        assert f"({name})" in text
        assert (run_dir / name).exists()
    costs = layer_costs(Arch.parse(LARGE), make_table([Arch.parse(LARGE)]))
    dw = costs[1]
    assert f"| 1 | s1.b1.dw | depthwise | 16²×16→16 | 5 | 1 | {dw.macs / 1e6:.3f} |" in text
    assert "Depthwise layers do" in text


def test_plots_are_real_files(tmp_path: Path) -> None:
    run_dir = make_run(tmp_path / "run")
    write_report(run_dir, trial=3)
    for name in ("trials.png", "progress.png", "roofline.png"):
        assert _is_png(run_dir / name), name
    html = (run_dir / "trials.html").read_text()
    assert len(html) > 1_000_000  # plotly.js inlined: opens offline
    assert '<script src="https://cdn' not in html
    assert SMALL in html  # hover text carries the architectures
    assert not list(run_dir.glob(".*.tmp")) and not list(run_dir.glob(".trials.*"))


def test_plot_with_no_complete_trials(tmp_path: Path) -> None:
    from tests.search.run_fixture import RECORDS

    infeasible = [r for r in RECORDS if r.state != "complete"]
    info = trials_info(infeasible, target_ms=None, title="")
    assert info.front == () and info.searched == () and len(info.infeasible) == 2
    path = plot_trials_png(tmp_path / "t.png", info)
    assert _is_png(path)


def test_report_without_table_still_writes(tmp_path: Path) -> None:
    run_dir = make_run(tmp_path / "run")
    (run_dir / "table.json").unlink()  # and its device, 'synthetic', is no known device
    result = write_report(run_dir, best_under=2.0)
    assert result.chosen.number == 3 and result.costs is None
    assert (
        "Per-layer breakdown unavailable: cannot find the latency table" in result.path.read_text()
    )


def test_cli_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run_dir = make_run(tmp_path / "run")
    assert main(["report", str(run_dir), "--best-under", "2.5"]) == 0
    out = capsys.readouterr().out
    assert "chosen: trial 3, 2.000 ms, 85.00 % proxy accuracy" in out
    assert "## Chosen network: trial 3" in (run_dir / "report.md").read_text()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--trial", "99"], "no trial 99 in this run: recorded trials are 0-8"),
        (["--best-under", "0.2"], "the fastest is trial 2 at 1.000 ms"),
        (["--trial", "1"], "trial 1 is infeasible"),
    ],
)
def test_cli_report_errors_leave_no_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    run_dir = make_run(tmp_path / "run")
    assert main(["report", str(run_dir), *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("hwnas: error: ") and err.count("\n") == 1
    assert message in err
    assert not (run_dir / "report.md").exists()
    assert Run.load(run_dir).records  # the run is untouched
