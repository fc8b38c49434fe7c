"""Figures of a table's validation report (drawn from the report data, never recomputed here)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

PANELS = (
    ("depthwise", "depthwise ops (leave-one-out)"),
    ("pointwise", "1x1 convs (leave-one-out)"),
    ("depthwise_kernel_differences", "kernel 5/7 minus 3 (leave-one-out)"),
)


def plot_leave_one_out(report: dict[str, Any], path: Path, title: str) -> None:
    """Measured vs held-out prediction per op kind, one panel each, saved as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, len(PANELS), figsize=(4 * len(PANELS), 4))
    for axis, (kind, label) in zip(axes, PANELS, strict=True):
        item = report["leave_one_out"][kind]
        measured = [p["measured_ms"] for p in item["points"]]
        predicted = [p["predicted_ms"] for p in item["points"]]
        top = 1.1 * max(measured + predicted)
        axis.plot([0, top], [0, top], color="grey", linewidth=0.8)
        axis.plot([0, top], [0, 0.85 * top], color="grey", linewidth=0.5, linestyle=":")
        axis.plot([0, top], [0, 1.15 * top], color="grey", linewidth=0.5, linestyle=":")
        axis.scatter(measured, predicted, s=14)
        axis.set_xlim(0, top)
        axis.set_ylim(0, top)
        axis.set_xlabel("measured ms")
        axis.set_ylabel("predicted ms (held out)")
        axis.set_title(f"{label}\nn={item['n']}, median |err| {item['median_abs_pct']:.1f} %")
    figure.suptitle(title)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=90)
    plt.close(figure)
