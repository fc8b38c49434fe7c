"""Pictures of a run, drawn from the data objects of `search.analysis`.

matplotlib (Agg backend, no display needed) draws the PNGs; plotly draws the interactive HTML,
with plotly.js inlined so that the file opens offline. Every file is written atomically
(`latency.files.write_atomic`), so a run directory never holds half a picture.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from latency.files import write_atomic
from search.analysis.layer_costs import LayerCost
from search.analysis.pareto import ParetoPoint, progress
from search.analysis.trials import TrialsInfo
from search.run.records import TrialRecord

TRIALS_PNG = "trials.png"
TRIALS_HTML = "trials.html"
PROGRESS_PNG = "progress.png"
ROOFLINE_PNG = "roofline.png"

OP_COLOURS = {
    "stem": "#7f7f7f",
    "depthwise": "#d62728",
    "pointwise": "#1f77b4",
    "head": "#2ca02c",
}
_FRONT = "#ff7f0e"
_BASELINE = "#9467bd"


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _short_baseline(name: str) -> str:
    """``mobilenet_v1_0.5_160`` -> ``MBv1 0.5-160``."""
    parts = name.rsplit("_", 2)
    return f"MBv1 {parts[1]}-{parts[2]}" if len(parts) == 3 else name


def plot_trials_png(path: Path, info: TrialsInfo) -> Path:
    """All trials (accuracy vs predicted latency) with the front, baselines and target line.

    Infeasible and failed trials have no accuracy, so they are marks on a strip under the axes.
    """
    plt = _pyplot()
    fig, (ax, strip) = plt.subplots(
        2, 1, figsize=(8, 6), sharex=True, gridspec_kw={"height_ratios": [5, 1], "hspace": 0.05}
    )
    _draw_scored(ax, info)
    _draw_unscored(strip, info)
    if info.x_range is not None:
        for axis in (ax, strip):
            axis.set_xlim(*info.x_range)
        strip.annotate(
            f"+{len(info.beyond)} beyond, up to {max(info.beyond):.3g} ms →",
            xy=(1.0, 0.5),
            xycoords="axes fraction",
            ha="right",
            va="center",
            fontsize=7,
            color="#d62728",
        )
    if info.target_ms is not None:
        for axis in (ax, strip):
            axis.axvline(info.target_ms, color="#d62728", linestyle="--", linewidth=1)
        ax.text(
            info.target_ms,
            1.0,
            f" target {info.target_ms:.3g} ms",
            color="#d62728",
            fontsize=8,
            transform=ax.get_xaxis_transform(),
            va="top",
        )
    ax.set_ylabel("proxy validation accuracy (%)")
    strip.set_xlabel("predicted latency (ms)")
    ax.grid(alpha=0.3)
    strip.grid(alpha=0.3, axis="x")
    handles, labels = ax.get_legend_handles_labels()
    strip_handles, strip_labels = strip.get_legend_handles_labels()
    ax.legend(handles + strip_handles, labels + strip_labels, fontsize=8, loc="lower right")
    ax.set_title(info.title or "Trials: accuracy vs predicted latency", fontsize=10)
    return _save_png(plt, fig, path)


def _draw_scored(ax: Any, info: TrialsInfo) -> None:
    """The complete trials: dominated searched ones, the front as a step line, the baselines."""
    ax.scatter(
        [r.latency_ms for r in info.dominated],
        [100 * (r.accuracy or 0.0) for r in info.dominated],
        s=22,
        c="#8c8c8c",
        alpha=0.7,
        label=f"searched, dominated ({len(info.dominated)})",
    )
    if info.front:
        xs = [p.latency_ms for p in info.front]
        ys = [100 * p.accuracy for p in info.front]
        ax.step(xs, ys, where="post", color=_FRONT, linewidth=1.5, zorder=2)
        ax.scatter(
            xs,
            ys,
            s=36,
            c=_FRONT,
            edgecolors="black",
            linewidths=0.5,
            zorder=3,
            label=f"Pareto front ({len(info.front)})",
        )
    if not info.baselines:
        return
    ax.scatter(
        [r.latency_ms for r in info.baselines],
        [100 * (r.accuracy or 0.0) for r in info.baselines],
        s=60,
        marker="s",
        facecolors="none",
        edgecolors=_BASELINE,
        linewidths=1.5,
        zorder=4,
        label="MobileNetV1 baselines",
    )
    for r in info.baselines:
        ax.annotate(
            _short_baseline(r.baseline or ""),
            (r.latency_ms, 100 * (r.accuracy or 0.0)),
            textcoords="offset points",
            xytext=(5, -10),
            fontsize=7,
            color=_BASELINE,
        )


def _draw_unscored(strip: Any, info: TrialsInfo) -> None:
    """Infeasible and failed trials as marks on the strip under the main axes."""
    for state, group, level, marker, colour in (
        ("infeasible", info.infeasible, 1, "x", "#d62728"),
        ("failed", info.failed, 0, "v", "black"),
    ):
        if group:
            strip.scatter(
                [r.latency_ms for r in group],
                [level] * len(group),
                marker=marker,
                c=colour,
                s=24,
                label=f"{state} ({len(group)})",
            )
    strip.set_ylim(-0.8, 1.8)
    strip.set_yticks([0, 1], ["failed", "infeasible"], fontsize=8)


def plot_trials_html(path: Path, info: TrialsInfo) -> Path:
    """The interactive version of `plot_trials_png` (self-contained HTML, plotly.js inlined)."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    fig = make_subplots(
        rows=2, cols=1, shared_xaxes=True, row_heights=[0.82, 0.18], vertical_spacing=0.03
    )
    groups = [
        ("searched", info.searched, "circle", "#8c8c8c"),
        ("MobileNetV1 baselines", info.baselines, "square-open", _BASELINE),
    ]
    for name, group, symbol, colour in groups:
        fig.add_trace(
            go.Scatter(
                x=[r.latency_ms for r in group],
                y=[100 * (r.accuracy or 0.0) for r in group],
                mode="markers",
                name=name,
                marker={"symbol": symbol, "color": colour, "size": 8},
                hovertext=[_hover(r) for r in group],
                hoverinfo="text",
            ),
            row=1,
            col=1,
        )
    fig.add_trace(
        go.Scatter(
            x=[p.latency_ms for p in info.front],
            y=[100 * p.accuracy for p in info.front],
            mode="lines+markers",
            line={"shape": "hv", "color": _FRONT},
            name="Pareto front",
            hovertext=[_hover(p) for p in info.front],
            hoverinfo="text",
        ),
        row=1,
        col=1,
    )
    for state, unscored, level, symbol, colour in (
        ("infeasible", info.infeasible, 1, "x", "#d62728"),
        ("failed", info.failed, 0, "triangle-down", "black"),
    ):
        fig.add_trace(
            go.Scatter(
                x=[r.latency_ms for r in unscored],
                y=[level] * len(unscored),
                mode="markers",
                name=f"{state} ({len(unscored)})",
                marker={"symbol": symbol, "color": colour, "size": 8},
                hovertext=[_hover(r) for r in unscored],
                hoverinfo="text",
            ),
            row=2,
            col=1,
        )
    if info.target_ms is not None:
        fig.add_vline(
            x=info.target_ms,
            line_dash="dash",
            line_color="#d62728",
            annotation_text=f"target {info.target_ms:g} ms",
        )
    fig.update_yaxes(title_text="proxy validation accuracy (%)", row=1, col=1)
    fig.update_yaxes(
        tickvals=[0, 1], ticktext=["failed", "infeasible"], range=[-0.8, 1.8], row=2, col=1
    )
    fig.update_xaxes(title_text="predicted latency (ms)", row=2, col=1)
    fig.update_layout(
        title=info.title or "Trials: accuracy vs predicted latency", template="plotly_white"
    )
    return write_atomic(
        path, lambda tmp: fig.write_html(tmp, include_plotlyjs=True, full_html=True)
    )


def _hover(r: TrialRecord | ParetoPoint) -> str:
    """The hover text of one point: trial, latency, accuracy, counts, arch, reason."""
    accuracy = r.accuracy
    reason = r.reason if isinstance(r, TrialRecord) else None
    lines = [
        f"trial {r.number}" + (f" ({r.baseline})" if r.baseline else ""),
        f"latency {r.latency_ms:.3f} ms",
        f"accuracy {100 * accuracy:.2f} %" if accuracy is not None else "",
        f"MACs {r.macs / 1e6:.1f} M, params {r.params / 1e6:.3f} M",
        r.arch,
        f"reason: {reason}" if reason else "",
    ]
    return "<br>".join(line for line in lines if line)


def _save_png(plt: Any, fig: Any, path: Path) -> Path:
    """Save ``fig`` as a PNG atomically and close it."""
    try:
        return write_atomic(path, lambda tmp: fig.savefig(tmp, dpi=120, bbox_inches="tight"))
    finally:
        plt.close(fig)


def plot_progress_png(
    path: Path, records: Sequence[TrialRecord], *, target_ms: float | None, title: str = ""
) -> Path:
    """Best feasible accuracy over trial number, with every complete trial's accuracy."""
    plt = _pyplot()
    steps = progress(list(records), target_ms)
    fig, ax = plt.subplots(figsize=(7, 4))
    complete = [r for r in records if r.state == "complete" and r.accuracy is not None]
    ax.scatter(
        [r.number for r in complete],
        [100 * (r.accuracy or 0.0) for r in complete],
        s=14,
        c="#8c8c8c",
        label="complete trial",
    )
    shown = [(n, b) for n, b in steps if b is not None]
    if shown:
        ax.step(
            [n for n, _ in shown],
            [100 * (b or 0.0) for _, b in shown],
            where="post",
            color=_FRONT,
            linewidth=2,
            label="best feasible so far",
        )
    ax.set_xlabel("trial number")
    ax.set_ylabel("proxy validation accuracy (%)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    bound = f" (latency ≤ {target_ms:.3g} ms)" if target_ms is not None else ""
    ax.set_title(title or f"Search progress: best feasible accuracy{bound}", fontsize=10)
    return _save_png(plt, fig, path)


def plot_roofline_png(path: Path, costs: Sequence[LayerCost], *, title: str = "") -> Path:
    """Achieved GMAC/s against arithmetic intensity (MACs/byte) per layer, coloured by op kind.

    The dashed envelope is empirical: the 90th percentile of the layers' throughput (compute
    roof) and of their GMAC/s per unit intensity (memory slope, i.e. effective bandwidth).
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 5))
    usable = [c for c in costs if c.ms > 0 and c.intensity > 0]
    total_ms = sum(c.ms for c in usable) or 1.0
    for op, colour in OP_COLOURS.items():
        group = [c for c in usable if c.op == op]
        if not group:
            continue
        share = 100 * sum(c.ms for c in group) / total_ms
        ax.scatter(
            [c.intensity for c in group],
            [c.gmacs_per_s for c in group],
            s=[20 + 400 * c.ms / total_ms for c in group],
            c=colour,
            alpha=0.75,
            edgecolors="black",
            linewidths=0.4,
            label=f"{op} ({share:.0f} % of time)",
        )
    if usable:
        import numpy as np

        # 90th percentiles rather than maxima: one tiny layer whose table time is mostly
        # corrected-away overhead would otherwise set an implausible roof.
        roof = float(np.percentile([c.gmacs_per_s for c in usable], 90))
        # GMAC/s per (MAC/byte) is GB/s: the effective bandwidth the memory-bound layers reach.
        bandwidth = float(np.percentile([c.gmacs_per_s / c.intensity for c in usable], 90))
        lo = min(c.intensity for c in usable) / 1.5
        hi = max(c.intensity for c in usable) * 1.5
        xs = np.geomspace(lo, hi, 200)
        ax.plot(
            xs,
            np.minimum(roof, bandwidth * xs),
            "k--",
            linewidth=1,
            label=f"empirical envelope, p90 of layers ({bandwidth:.1f} GB/s, {roof:.1f} GMAC/s)",
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
        axis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("arithmetic intensity (MACs per byte moved, fp32)")
    ax.set_ylabel("achieved GMAC/s (MACs / predicted layer latency)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title(
        title or "Roofline view of the chosen network (marker area = share of time)", fontsize=10
    )
    return _save_png(plt, fig, path)
