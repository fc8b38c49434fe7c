"""A run's trials grouped once for drawing: the same groups feed the PNG and the HTML plot."""

from __future__ import annotations

from dataclasses import dataclass

from search.analysis.pareto import ParetoPoint, pareto_front
from search.run.records import TrialRecord

#: The plotted latency range stops this far past the slowest trained trial (or the target).
X_MARGIN = 1.6


@dataclass(frozen=True)
class TrialsInfo:
    """The trials of a run in the groups the plots draw, and the latency range worth showing.

    ``searched`` are complete trials that are not baselines, ``dominated`` those of them off the
    front; ``baselines`` are complete baselines. Infeasible trials (over the target, never
    trained) and failed ones have a latency but no accuracy. ``x_range`` is set when far-off
    infeasible trials would squeeze the interesting region into a corner: it stops a little past
    the slowest trained trial (or the target), and ``beyond`` holds the latencies cut off.
    """

    title: str
    target_ms: float | None
    front: tuple[ParetoPoint, ...]
    searched: tuple[TrialRecord, ...]
    dominated: tuple[TrialRecord, ...]
    baselines: tuple[TrialRecord, ...]
    infeasible: tuple[TrialRecord, ...]
    failed: tuple[TrialRecord, ...]
    x_range: tuple[float, float] | None
    beyond: tuple[float, ...]


def trials_info(records: list[TrialRecord], *, target_ms: float | None, title: str) -> TrialsInfo:
    """Group ``records`` for the trial plots (see `TrialsInfo`)."""
    front = pareto_front(records)
    on_front = {p.number for p in front}
    complete = [r for r in records if r.state == "complete" and r.accuracy is not None]
    searched = [r for r in complete if r.baseline is None]
    scored = [r.latency_ms for r in complete] + ([target_ms] if target_ms is not None else [])
    every = [r.latency_ms for r in records]
    x_range: tuple[float, float] | None = None
    beyond: list[float] = []
    if scored and every:
        right = max(scored) * X_MARGIN
        beyond = [x for x in every if x > right]
        if beyond:
            left = min(every) - 0.05 * (right - min(every))
            x_range = (max(0.0, left), right)
    return TrialsInfo(
        title=title,
        target_ms=target_ms,
        front=tuple(front),
        searched=tuple(searched),
        dominated=tuple(r for r in searched if r.number not in on_front),
        baselines=tuple(r for r in complete if r.baseline is not None),
        infeasible=tuple(r for r in records if r.state == "infeasible"),
        failed=tuple(r for r in records if r.state == "failed"),
        x_range=x_range,
        beyond=tuple(beyond),
    )
