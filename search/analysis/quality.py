"""How good a search was: hypervolume of its accuracy/latency front and its gains over MobileNetV1.

Plain data from `TrialRecord` values (tested with ``==``); the benchmark script
``search/bench/search_quality.py`` and reports present them.

Hypervolume: the area of the (latency, accuracy) region dominated by a run's complete trials and
bounded by a reference point ``(ref_latency_ms, ref_accuracy)``, in ms x accuracy. The benchmarks
use the run's latency target and chance accuracy (1 / classes) as the reference: every complete
trial of a target-mode run is no slower than the target, and an accuracy at chance adds nothing.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any

from search.analysis.pareto import BaselineComparison, compare_baselines, pareto_front
from search.formatting import number
from search.run.records import TrialRecord


def hypervolume(
    points: list[tuple[float, float]], *, ref_latency_ms: float, ref_accuracy: float
) -> float:
    """Area dominated by ``(latency_ms, accuracy)`` points (less latency, more accuracy better)."""
    inside = sorted(
        (lat, acc) for lat, acc in points if lat < ref_latency_ms and acc > ref_accuracy
    )
    area = 0.0
    best = ref_accuracy
    for i, (lat, acc) in enumerate(inside):
        best = max(best, acc)
        next_lat = inside[i + 1][0] if i + 1 < len(inside) else ref_latency_ms
        area += (next_lat - lat) * (best - ref_accuracy)
    return area


@dataclass(frozen=True)
class SearchQuality:
    """One run's figures: front, hypervolume and the per-baseline comparison."""

    trials: int
    complete: int
    infeasible: int
    failed: int
    searched_complete: int
    front: list[dict[str, Any]]
    hypervolume: float
    ref_latency_ms: float
    ref_accuracy: float
    best_accuracy: float | None
    comparisons: list[dict[str, Any]]
    median_speedup: float | None
    median_accuracy_gain: float | None

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        from dataclasses import asdict

        return asdict(self)


def _comparison_dict(item: BaselineComparison) -> dict[str, Any]:
    return {
        "baseline": item.baseline.baseline,
        "baseline_latency_ms": item.baseline.latency_ms,
        "baseline_accuracy": item.baseline.accuracy,
        "faster_trial": item.faster.number if item.faster else None,
        "faster_latency_ms": item.faster.latency_ms if item.faster else None,
        "faster_accuracy": item.faster.accuracy if item.faster else None,
        "speedup": item.speedup,
        "better_trial": item.better.number if item.better else None,
        "better_latency_ms": item.better.latency_ms if item.better else None,
        "better_accuracy": item.better.accuracy if item.better else None,
        "accuracy_gain": item.accuracy_gain,
    }


def search_quality(
    records: list[TrialRecord], *, ref_latency_ms: float, ref_accuracy: float
) -> SearchQuality:
    """Hypervolume, front and baseline comparison of one run's records."""
    complete = [r for r in records if r.state == "complete" and r.accuracy is not None]
    points = [(r.latency_ms, float(r.accuracy)) for r in complete if r.accuracy is not None]
    comparisons = compare_baselines(records)
    speedups = [c.speedup for c in comparisons if c.speedup is not None]
    gains = [c.accuracy_gain for c in comparisons if c.accuracy_gain is not None]
    return SearchQuality(
        trials=len(records),
        complete=len(complete),
        infeasible=sum(r.state == "infeasible" for r in records),
        failed=sum(r.state == "failed" for r in records),
        searched_complete=sum(r.baseline is None for r in complete),
        front=[p.to_dict() for p in pareto_front(records)],
        hypervolume=hypervolume(points, ref_latency_ms=ref_latency_ms, ref_accuracy=ref_accuracy),
        ref_latency_ms=ref_latency_ms,
        ref_accuracy=ref_accuracy,
        best_accuracy=max((acc for _, acc in points), default=None),
        comparisons=[_comparison_dict(c) for c in comparisons],
        median_speedup=statistics.median(speedups) if speedups else None,
        median_accuracy_gain=statistics.median(gains) if gains else None,
    )


def quality_table(named: dict[str, SearchQuality]) -> str:
    """A Markdown summary of several runs' figures (sampler name -> quality)."""
    lines = [
        "| run | trials | complete (searched) | infeasible | failed | front | hypervolume "
        "| best accuracy | median speedup | median accuracy gain |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, q in named.items():
        lines.append(
            f"| {name} | {q.trials} | {q.complete} ({q.searched_complete}) | {q.infeasible} "
            f"| {q.failed} | {len(q.front)} | {q.hypervolume:.4f} "
            f"| {number(q.best_accuracy, '.4f')} "
            f"| {number(q.median_speedup, '.2f', 'x')} | {number(q.median_accuracy_gain, '+.4f')} |"
        )
    return "\n".join(lines)


def comparison_table(quality: SearchQuality) -> str:
    """A Markdown table: each complete baseline, its fastest as-accurate and best no-slower find."""
    lines = [
        "| baseline | ms | accuracy | fastest as accurate (trial, ms, acc) | speedup "
        "| best no slower (trial, ms, acc) | gain |",
        "|---|---|---|---|---|---|---|",
    ]
    for c in quality.comparisons:
        faster = (
            f"#{c['faster_trial']}, {c['faster_latency_ms']:.2f}, {c['faster_accuracy']:.4f}"
            if c["faster_trial"] is not None
            else "none"
        )
        better = (
            f"#{c['better_trial']}, {c['better_latency_ms']:.2f}, {c['better_accuracy']:.4f}"
            if c["better_trial"] is not None
            else "none"
        )
        lines.append(
            f"| {c['baseline']} | {c['baseline_latency_ms']:.2f} | {c['baseline_accuracy']:.4f} "
            f"| {faster} | {number(c['speedup'], '.2f', 'x')} | {better} "
            f"| {number(c['accuracy_gain'], '+.4f')} |"
        )
    return "\n".join(lines)
