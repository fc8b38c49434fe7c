"""``hwnas report``: a Markdown report of a run, with its plots and a roofline view of one network.

Everything drawn here comes from `search.analysis` data objects (front, baseline comparisons,
per-layer costs) and the run's typed `search.run.info.RunInfo`.
"""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from latency.files import write_text_atomic
from latency.table import LatencyTable
from search.analysis.layer_costs import LayerCost, OpSummary, layer_costs, op_summaries
from search.analysis.pareto import (
    ParetoPoint,
    choose,
    compare_baselines,
    count_states,
    pareto_front,
)
from search.analysis.trials import trials_info
from search.formatting import plain
from search.report.plots import (
    PROGRESS_PNG,
    ROOFLINE_PNG,
    TRIALS_HTML,
    TRIALS_PNG,
    plot_progress_png,
    plot_roofline_png,
    plot_trials_html,
    plot_trials_png,
)
from search.run.directory import Run
from search.run.records import TrialRecord
from space import Arch, layers

REPORT_MD = "report.md"
#: Longer JSON values (e.g. per-shape reorder timings) are summarised, not printed.
MAX_CELL = 400


def load_run_table(run: Run, table: str | Path | None = None) -> LatencyTable:
    """The latency table the run was scored with (or ``table`` if given); ``ValueError`` if lost.

    ``run.json`` records the table's path; a relative path is tried from the current directory
    and from the run directory, then the device name is resolved through `latency.devices`.
    """
    from latency.devices import resolve_table

    if table is not None:
        return LatencyTable.load(table)
    recorded = Path(run.info.table.path)
    candidates = [recorded]
    if not recorded.is_absolute():
        candidates += [run.path / recorded, run.path / recorded.name]
    for candidate in candidates:
        if candidate.is_file():
            return LatencyTable.load(candidate)
    try:
        return resolve_table(device=run.info.settings.device)[0]
    except ValueError as err:
        raise ValueError(
            f"cannot find the latency table of run {str(run.path)!r} (tried "
            f"{', '.join(map(str, candidates))}; {err}): pass it with --table FILE"
        ) from None


def write_plots(run: Run) -> list[Path]:
    """Draw the trials (PNG and HTML) and progress plots into the run directory."""
    info = trials_info(
        run.records,
        target_ms=run.target_ms,
        title=f"{run.path.name}: {len(run.records)} trials on {run.device_name}",
    )
    return [
        plot_trials_png(run.path / TRIALS_PNG, info),
        plot_trials_html(run.path / TRIALS_HTML, info),
        plot_progress_png(run.path / PROGRESS_PNG, run.records, target_ms=run.target_ms),
    ]


@dataclass(frozen=True)
class ReportResult:
    """What `write_report` produced."""

    path: Path
    chosen: TrialRecord
    plots: list[Path]
    costs: list[LayerCost] | None


def write_report(
    run_dir: str | Path,
    *,
    trial: int | None = None,
    best_under: float | None = None,
    table: str | Path | None = None,
) -> ReportResult:
    """Write the plots and ``report.md`` into a run directory; return what was chosen."""
    run = Run.load(run_dir)
    chosen = choose(run.records, trial=trial, best_under=best_under, target_ms=run.target_ms)
    table_note = ""
    costs: list[LayerCost] | None = None
    loaded: LatencyTable | None = None
    try:
        loaded = load_run_table(run, table)
        costs = layer_costs(Arch.parse(chosen.arch), loaded)
    except ValueError as err:
        if table is not None:
            raise
        table_note = str(err)
    plots = write_plots(run)
    if costs:
        plots.append(
            plot_roofline_png(
                run.path / ROOFLINE_PNG,
                costs,
                title=f"Roofline view of trial {chosen.number} on {run.device_name}",
            )
        )
    text = render_report(run, chosen, costs, table=loaded, table_note=table_note)
    path = write_text_atomic(run.path / REPORT_MD, text)
    return ReportResult(path=path, chosen=chosen, plots=plots, costs=costs)


# -- rendering ------------------------------------------------------------------------------------


def _cell(value: Any) -> str:
    """A value in a Markdown table cell: JSON in backticks, pipes escaped."""
    text = plain(value, max_json=MAX_CELL)
    if isinstance(value, dict | list) and not text.startswith("("):
        return f"`{text}`"
    return text.replace("|", "\\|")


def _kv_table(data: dict[str, Any]) -> list[str]:
    if not data:
        return ["(not recorded)", ""]
    lines = ["| key | value |", "|---|---|"]
    lines += [f"| {key} | {_cell(value)} |" for key, value in data.items()]
    return [*lines, ""]


def _points_table(points: list[ParetoPoint], chosen: int | None = None) -> list[str]:
    lines = [
        "| trial | latency (ms) | accuracy (%) | MMACs | params (M) | arch |",
        "|---:|---:|---:|---:|---:|---|",
    ]
    for p in points:
        mark = " **←**" if p.number == chosen else ""
        name = f" ({p.baseline})" if p.baseline else ""
        lines.append(
            f"| {p.number}{mark} | {p.latency_ms:.3f} | {100 * p.accuracy:.2f} | "
            f"{p.macs / 1e6:.1f} | {p.params / 1e6:.3f} | `{p.arch}`{name} |"
        )
    return [*lines, ""]


def render_report(
    run: Run,
    chosen: TrialRecord,
    costs: list[LayerCost] | None,
    *,
    table: LatencyTable | None = None,
    table_note: str = "",
) -> str:
    """The Markdown text of the report."""
    counts = count_states(run.records)
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    out = [f"# hwnas run report: `{run.path.name}`", ""]
    out += [
        f"Generated {now} by `hwnas report` from `run.json` and `trials.jsonl` "
        f"({counts.total} recorded trials: {counts.complete} complete, {counts.infeasible} "
        f"infeasible, {counts.failed} failed).",
        "",
    ]
    out += _run_section(run)
    out += _table_section(run, table)
    out += _front_section(run, chosen)
    out += _baselines_section(run.records)
    out += _plots_section(run)
    out += _chosen_section(run, chosen, costs, table, table_note)
    return "\n".join(out).rstrip() + "\n"


def _run_section(run: Run) -> list[str]:
    info = run.info
    out = ["## Run", "", "```", info.command, "```", ""]
    summary = {
        "seed": info.settings.seed,
        "target (ms)": run.target_ms,
        "device": run.device_name,
    }
    out += _kv_table(summary)
    settings = asdict(info.settings)
    settings.pop("config")
    out += ["### Settings", "", *_kv_table(settings)]
    out += ["### Data set", "", *_kv_table(asdict(info.dataset))]
    out += ["### Proxy schedule", "", *_kv_table(info.proxy_schedule)]
    out += ["### Search space", "", *_kv_table(info.space)]
    if info.sessions:
        out += [
            "### Sessions",
            "",
            "| started | finished | trials | workers |",
            "|---|---|---:|---:|",
        ]
        out += [
            f"| {_cell(s.started)} | {_cell(s.finished)} | {s.trials} | {s.workers} |"
            for s in info.sessions
        ]
        out.append("")
    out += ["### Software versions", "", *_kv_table(info.versions)]
    return out


def _table_section(run: Run, table: LatencyTable | None) -> list[str]:
    recorded = run.info.table
    provenance = recorded.provenance
    if provenance is None and table is not None:
        provenance = table.provenance
    out = ["## Latency table", ""]
    out += _kv_table({"path": recorded.path, "device_name": recorded.device_name})
    out += ["### Device", "", *_kv_table(recorded.device)]
    out += ["### Measurement protocol", "", *_kv_table(recorded.protocol)]
    out += ["### Provenance", ""]
    if provenance is None:
        out += ["Measured on this device by `hwnas latency build` (no published source).", ""]
    else:
        out += _kv_table(provenance)
    return out


def _front_section(run: Run, chosen: TrialRecord) -> list[str]:
    front = pareto_front(run.records)
    out = ["## Pareto front", ""]
    out += [
        "Accuracy is the proxy (short-schedule) accuracy on the validation split carved from the "
        "training data; latency is the table's prediction for one forward pass at batch 1.",
        "",
    ]
    out += _points_table(front, chosen.number) if front else ["No complete trial yet.", ""]
    return out


def _baselines_section(records: list[TrialRecord]) -> list[str]:
    out = ["## MobileNetV1 baselines", ""]
    base_records = sorted((r for r in records if r.baseline), key=lambda r: r.latency_ms)
    if not base_records:
        return [*out, "No baselines recorded in this run.", ""]
    out += [
        "| baseline | trial | state | latency (ms) | accuracy (%) | MMACs | params (M) |",
        "|---|---:|---|---:|---:|---:|---:|",
    ]
    for r in base_records:
        accuracy = f"{100 * r.accuracy:.2f}" if r.accuracy is not None else "–"
        out.append(
            f"| {r.baseline} | {r.number} | {r.state} | {r.latency_ms:.3f} | {accuracy} | "
            f"{r.macs / 1e6:.1f} | {r.params / 1e6:.3f} |"
        )
    out.append("")
    comparisons = compare_baselines(records)
    if not comparisons:
        return out
    out += [
        "Against each trained baseline: the fastest searched network at least as accurate "
        "(speedup), and the most accurate searched network no slower (accuracy gain).",
        "",
        "| baseline | fastest as accurate | speedup | best no slower | gain (points) |",
        "|---|---|---:|---|---:|",
    ]
    for c in comparisons:
        faster = f"trial {c.faster.number}, {c.faster.latency_ms:.3f} ms" if c.faster else "none"
        better = f"trial {c.better.number}, {100 * c.better.accuracy:.2f} %" if c.better else "none"
        speedup = f"{c.speedup:.2f}×" if c.speedup is not None else "–"
        gain = f"{100 * c.accuracy_gain:+.2f}" if c.accuracy_gain is not None else "–"
        out.append(f"| {c.baseline.baseline} | {faster} | {speedup} | {better} | {gain} |")
    speedups = [c.speedup for c in comparisons if c.speedup is not None]
    if speedups:
        out += [
            "",
            f"Median speedup at equal or better accuracy: "
            f"{statistics.median(speedups):.2f}× over {len(speedups)} baselines.",
        ]
    out.append("")
    return out


def _plots_section(run: Run) -> list[str]:
    return [
        "## Plots",
        "",
        f"![All trials: accuracy vs predicted latency]({TRIALS_PNG})",
        "",
        f"Interactive version (hover for architectures): [{TRIALS_HTML}]({TRIALS_HTML}), a "
        "self-contained file of a few MB with plotly.js inlined (regenerate it with "
        f"`hwnas pareto {run.path}` if it is missing, e.g. from a committed copy).",
        "",
        f"![Search progress]({PROGRESS_PNG})",
        "",
    ]


def _chosen_section(
    run: Run,
    chosen: TrialRecord,
    costs: list[LayerCost] | None,
    table: LatencyTable | None,
    table_note: str,
) -> list[str]:
    out = [f"## Chosen network: trial {chosen.number}", ""]
    out += [
        f"`{chosen.arch}`" + (f" ({chosen.baseline})" if chosen.baseline else ""),
        "",
        f"- predicted latency: {chosen.latency_ms:.3f} ms on {run.device_name}",
        f"- proxy validation accuracy: {100 * (chosen.accuracy or 0.0):.2f} %",
        f"- multiply-adds: {chosen.macs / 1e6:.1f} M; parameters: {chosen.params / 1e6:.3f} M",
        "",
        f"Export it with `hwnas export {run.path} --trial {chosen.number} --out DIR --epochs E`.",
        "",
    ]
    if not costs:
        out += [f"Per-layer breakdown unavailable: {table_note or 'no latency table'}", ""]
        return out
    total = sum(c.ms for c in costs)
    overhead = table.network_overhead_ms if table is not None else 0.0
    out += ["### Per-layer latency breakdown", ""]
    out += [
        f"Sum of the layers: {total:.3f} ms, plus {overhead:.3f} ms paid once per network "
        f"= {total + overhead:.3f} ms. Arithmetic intensity is MACs per byte of input, output "
        "and weights (fp32), a lower bound on memory traffic; GMAC/s is MACs over the predicted "
        "layer time.",
        "",
        "| op | layers | time (ms) | time share | MAC share | MACs per byte | GMAC/s |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    summaries = op_summaries(costs)
    for s in summaries:
        out.append(
            f"| {s.op} | {s.layers} | {s.ms:.3f} | {100 * s.time_share:.1f} % | "
            f"{100 * s.mac_share:.1f} % | {s.intensity:.2f} | {s.gmacs_per_s:.2f} |"
        )
    out.append("")
    out += _roofline_sentence(costs, summaries)
    out += [f"![Roofline view of the chosen network]({ROOFLINE_PNG})", ""]
    top = sorted(costs, key=lambda c: -c.ms)[:5]
    out += [
        "Layers that dominate: "
        + ", ".join(f"`{c.name}` ({c.op}, {100 * c.ms / total:.1f} %)" for c in top)
        + ".",
        "",
        "| # | layer | op | input | k | s | MACs (M) | bytes (KB) | MACs/byte | time (ms) | "
        "share | GMAC/s |",
        "|---:|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for c, layer in zip(costs, layers(Arch.parse(chosen.arch)), strict=True):
        shape = f"{layer.in_size}²×{layer.in_channels}→{layer.out_channels}"
        out.append(
            f"| {c.index} | {c.name} | {c.op} | {shape} | {layer.kernel} | {layer.stride} | "
            f"{c.macs / 1e6:.3f} | {c.bytes_moved / 1024:.1f} | {c.intensity:.2f} | "
            f"{c.ms:.4f} | {100 * c.ms / total:.1f} % | {c.gmacs_per_s:.2f} |"
        )
    out.append("")
    return out


def _roofline_sentence(costs: list[LayerCost], summaries: list[OpSummary]) -> list[str]:
    by_op = {s.op: s for s in summaries}
    dw, pw = by_op.get("depthwise"), by_op.get("pointwise")
    if dw is None or pw is None:
        return []
    dw_int = statistics.median(c.intensity for c in costs if c.op == "depthwise")
    pw_int = statistics.median(c.intensity for c in costs if c.op == "pointwise")
    ratio = pw.gmacs_per_s / dw.gmacs_per_s if dw.gmacs_per_s > 0 else float("inf")
    text = (
        f"Depthwise layers do {100 * dw.mac_share:.1f} % of the multiply-adds and take "
        f"{100 * dw.time_share:.1f} % of the time. Their median intensity is {dw_int:.2f} "
        f"MACs/byte against {pw_int:.2f} for pointwise layers, and they reach "
        f"{dw.gmacs_per_s:.2f} GMAC/s against pointwise's {pw.gmacs_per_s:.2f}"
    )
    if ratio >= 1.5:
        text += (
            f" ({ratio:.1f}× slower per MAC): with so few MACs per byte they wait on memory "
            "rather than on arithmetic, so their share of the time exceeds their share of the work."
        )
    else:
        text += (
            " – on this device the two kinds run at similar throughput per MAC, so the "
            "depthwise layers' low intensity costs little here."
        )
    return [text, ""]
