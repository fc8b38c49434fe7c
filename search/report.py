"""``hwnas report``: a Markdown report of a run, with its plots and a roofline view of one network.

The per-layer breakdown (`layer_costs`) is plain data: each layer's predicted milliseconds from the
run's latency table, its multiply-adds and the bytes it must at least move, hence its arithmetic
intensity (MACs per byte) and the throughput it achieves (GMAC/s). Depthwise layers do k*k MACs
per output value against pointwise layers' C_in, so their intensity is one to two orders of
magnitude lower; on a CPU that leaves them bound by memory traffic, which is why they take a far
larger share of the time than of the MACs.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from search.pareto import (
    ParetoPoint,
    Run,
    choose,
    compare_baselines,
    count_states,
    pareto_front,
)
from search.plots import (
    PROGRESS_PNG,
    ROOFLINE_PNG,
    TRIALS_HTML,
    TRIALS_PNG,
    plot_progress_png,
    plot_roofline_png,
    plot_trials_html,
    plot_trials_png,
)
from search.records import TrialRecord
from space import Arch, layers

REPORT_MD = "report.md"
#: Longer JSON values (e.g. per-shape reorder timings) are summarised, not printed.
MAX_CELL = 400


class _Roofline:
    """Roofline coordinates of anything with ``macs``, ``bytes_moved`` and predicted ``ms``."""

    macs: int
    bytes_moved: int
    ms: float

    @property
    def intensity(self) -> float:
        """Arithmetic intensity: multiply-adds per byte moved (inputs, outputs, weights)."""
        return self.macs / self.bytes_moved if self.bytes_moved else 0.0

    @property
    def gmacs_per_s(self) -> float:
        """Achieved throughput: MACs over the predicted time, in GMAC/s."""
        return self.macs / (self.ms * 1e6) if self.ms > 0 else 0.0


@dataclass(frozen=True)
class LayerCost(_Roofline):
    """One layer of a network with its predicted time and its roofline coordinates."""

    index: int
    name: str
    op: str
    signature: str
    macs: int
    bytes_moved: int
    ms: float


@dataclass(frozen=True)
class OpSummary(_Roofline):
    """The layers of one op kind taken together."""

    op: str
    layers: int
    ms: float
    macs: int
    bytes_moved: int
    time_share: float
    mac_share: float


def layer_costs(arch: Arch, table: Any) -> list[LayerCost]:
    """Each layer's predicted time on ``table``'s device, with its MACs and bytes moved."""
    breakdown = table.breakdown(arch)
    walk = layers(arch)
    if len(breakdown) != len(walk):
        raise ValueError(
            f"the latency table priced {len(breakdown)} layers of {arch.to_str()!r} "
            f"but the network has {len(walk)}"
        )
    return [
        LayerCost(
            index=i,
            name=layer.name,
            op=signature.op,
            signature=signature.key,
            macs=signature.macs,
            bytes_moved=signature.bytes_moved,
            ms=float(ms),
        )
        for i, (layer, (signature, ms)) in enumerate(zip(walk, breakdown, strict=True))
    ]


def op_summaries(costs: list[LayerCost]) -> list[OpSummary]:
    """Totals per op kind, in the order stem, depthwise, pointwise, head."""
    total_ms = sum(c.ms for c in costs) or 1.0
    total_macs = sum(c.macs for c in costs) or 1
    result = []
    for op in ("stem", "depthwise", "pointwise", "head"):
        group = [c for c in costs if c.op == op]
        if not group:
            continue
        ms = sum(c.ms for c in group)
        macs = sum(c.macs for c in group)
        result.append(
            OpSummary(
                op=op,
                layers=len(group),
                ms=ms,
                macs=macs,
                bytes_moved=sum(c.bytes_moved for c in group),
                time_share=ms / total_ms,
                mac_share=macs / total_macs,
            )
        )
    return result


def load_run_table(run: Run, table: str | Path | None = None) -> Any:
    """The latency table the run was scored with (or ``table`` if given); ``ValueError`` if lost.

    ``run.json`` records the table's path; a relative path is tried from the current directory
    and from the run directory, then the device name is resolved through `latency.devices`.
    """
    from latency.table import LatencyTable

    if table is not None:
        return LatencyTable.load(table)
    recorded = (
        run.table_info.get("path") or run.settings.get("table") or run.settings.get("table_path")
    )
    if not isinstance(recorded, str):
        recorded = None
    tried: list[str] = []
    if recorded:
        candidates = [Path(recorded)]
        if not Path(recorded).is_absolute():
            candidates += [run.path / recorded, run.path / Path(recorded).name]
        for candidate in candidates:
            tried.append(str(candidate))
            if candidate.is_file():
                return LatencyTable.load(candidate)
    device = run.settings.get("device")
    if isinstance(device, str) and device:
        try:
            from latency.devices import resolve_table
        except ImportError:
            pass
        else:
            return resolve_table(device=device)[0]
    raise ValueError(
        f"cannot find the latency table of run {str(run.path)!r} "
        f"(tried {', '.join(tried) or 'no path recorded'}): pass it with --table FILE"
    )


def write_plots(run: Run) -> list[Path]:
    """Draw the trials (PNG and HTML) and progress plots into the run directory."""
    front = pareto_front(run.records)
    title = f"{run.path.name}: {len(run.records)} trials on {run.device_name}"
    return [
        plot_trials_png(
            run.path / TRIALS_PNG, run.records, front, target_ms=run.target_ms, title=title
        ),
        plot_trials_html(
            run.path / TRIALS_HTML, run.records, front, target_ms=run.target_ms, title=title
        ),
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
    loaded: Any = None
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
    path = run.path / REPORT_MD
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
    return ReportResult(path=path, chosen=chosen, plots=plots, costs=costs)


# -- rendering ------------------------------------------------------------------------------------


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, dict | list):
        text = json.dumps(value, sort_keys=True)
        if len(text) > MAX_CELL:
            kind = "entries" if isinstance(value, dict) else "items"
            return f"({len(value)} {kind}, in the file)"
        return "`" + text + "`"
    if value is None:
        return "–"
    return str(value).replace("|", "\\|")


def _kv_table(data: dict[str, Any]) -> list[str]:
    if not data:
        return ["(not recorded)", ""]
    lines = ["| key | value |", "|---|---|"]
    lines += [f"| {key} | {_fmt(value)} |" for key, value in data.items()]
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
    table: Any = None,
    table_note: str = "",
) -> str:
    """The Markdown text of the report."""
    records = run.records
    counts = count_states(records)
    front = pareto_front(records)
    target = run.target_ms
    info = run.info
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    out = [f"# hwnas run report: `{run.path.name}`", ""]
    out += [
        f"Generated {now} by `hwnas report` from `run.json` and `trials.jsonl` "
        f"({counts.total} recorded trials: {counts.complete} complete, {counts.infeasible} "
        f"infeasible, {counts.failed} failed).",
        "",
    ]
    # Run
    out += ["## Run", ""]
    if info.get("command"):
        command = info["command"]
        if isinstance(command, list):
            command = " ".join(str(part) for part in command)
        out += ["```", str(command), "```", ""]
    summary = {
        "seed": info.get("seed"),
        "target (ms)": target,
        "device": run.device_name,
        "dataset": info.get("dataset") if not isinstance(info.get("dataset"), dict) else None,
    }
    out += _kv_table({k: v for k, v in summary.items() if v is not None})
    settings = dict(run.settings)
    config = settings.pop("config", None)
    out += ["### Settings", "", *_kv_table(settings)]
    config = config if isinstance(config, dict) else {}
    sections = (
        ("Data set", info.get("dataset")),
        (
            "Proxy schedule",
            info.get("proxy_schedule") or info.get("schedule") or config.get("proxy"),
        ),
        ("Search space", info.get("space") or config.get("space")),
    )
    for heading, value in sections:
        if isinstance(value, dict):
            out += [f"### {heading}", "", *_kv_table(value)]
    sessions = info.get("sessions")
    if isinstance(sessions, list) and sessions:
        out += [
            "### Sessions",
            "",
            "| started | finished | trials | workers |",
            "|---|---|---:|---:|",
        ]
        for session in sessions:
            if isinstance(session, dict):
                out.append(
                    f"| {_fmt(session.get('started'))} | {_fmt(session.get('finished'))} | "
                    f"{_fmt(session.get('trials'))} | {_fmt(session.get('workers'))} |"
                )
        out.append("")
    if isinstance(info.get("versions"), dict):
        out += ["### Software versions", "", *_kv_table(info["versions"])]
    # Table
    out += ["## Latency table", ""]
    table_info = dict(run.table_info)
    device = table_info.pop("device", None)
    provenance = table_info.pop("provenance", None)
    protocol = table_info.pop("protocol", None)
    if table is not None:
        device = device if isinstance(device, dict) else getattr(table, "device", None)
        provenance = provenance if provenance is not None else getattr(table, "provenance", None)
        protocol = protocol if protocol is not None else getattr(table, "protocol", None)
    out += _kv_table(table_info)
    out += ["### Device", "", *_kv_table(device if isinstance(device, dict) else {"name": device})]
    out += ["### Measurement protocol", ""]
    out += _kv_table(protocol if isinstance(protocol, dict) else {})
    out += ["### Provenance", ""]
    if isinstance(provenance, dict):
        out += _kv_table(provenance)
    else:
        out += [
            "Measured on this device by `hwnas latency build` (no published source)."
            if provenance is None
            else _fmt(provenance),
            "",
        ]
    # Front
    out += ["## Pareto front", ""]
    out += [
        "Accuracy is the proxy (short-schedule) accuracy on the validation split carved from the "
        "training data; latency is the table's prediction for one forward pass at batch 1.",
        "",
    ]
    out += _points_table(front, chosen.number) if front else ["No complete trial yet.", ""]
    out += ["## MobileNetV1 baselines", ""]
    base_records = sorted((r for r in records if r.baseline), key=lambda r: r.latency_ms)
    if base_records:
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
        if comparisons:
            out += [
                "Against each trained baseline: the fastest searched network at least as accurate "
                "(speedup), and the most accurate searched network no slower (accuracy gain).",
                "",
                "| baseline | fastest as accurate | speedup | best no slower | gain (points) |",
                "|---|---|---:|---|---:|",
            ]
            for c in comparisons:
                faster = (
                    f"trial {c.faster.number}, {c.faster.latency_ms:.3f} ms" if c.faster else "none"
                )
                better = (
                    f"trial {c.better.number}, {100 * c.better.accuracy:.2f} %"
                    if c.better
                    else "none"
                )
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
    else:
        out += ["No baselines recorded in this run.", ""]
    # Plots
    out += ["## Plots", ""]
    out += [
        f"![All trials: accuracy vs predicted latency]({TRIALS_PNG})",
        "",
        f"Interactive version (hover for architectures): [{TRIALS_HTML}]({TRIALS_HTML}), a "
        "self-contained file of a few MB with plotly.js inlined (regenerate it with "
        f"`hwnas pareto {run.path}` if it is missing, e.g. from a committed copy).",
        "",
        f"![Search progress]({PROGRESS_PNG})",
        "",
    ]
    # Chosen network
    out += _chosen_section(run, chosen, costs, table, table_note)
    return "\n".join(out).rstrip() + "\n"


def _chosen_section(
    run: Run, chosen: TrialRecord, costs: list[LayerCost] | None, table: Any, table_note: str
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
    overhead = float(getattr(table, "network_overhead_ms", 0.0) or 0.0)
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
