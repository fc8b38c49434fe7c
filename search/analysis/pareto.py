"""The trade-off a run found: its Pareto front, its baselines, and picking one network from it.

Everything here computes plain data from `TrialRecord` values (tested with ``==``); tables, plots
and reports are drawn from these values elsewhere (`search.report`).

Only complete trials have an accuracy, so only they can be on the front or be chosen. The front
maximises accuracy and minimises predicted latency; a trial is on it when no other complete trial
is at least as fast and at least as accurate and strictly better in one of the two. Of trials with
exactly the same latency and accuracy only the lowest-numbered one is kept, so that a repeated
architecture does not show twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from search.run.records import TrialRecord


@dataclass(frozen=True)
class ParetoPoint:
    """One complete trial as a point of the accuracy/latency trade-off."""

    number: int
    arch: str
    latency_ms: float
    accuracy: float
    macs: int
    params: int
    baseline: str | None = None

    @classmethod
    def from_record(cls, record: TrialRecord) -> ParetoPoint:
        """The point of a complete trial; ``ValueError`` if it has no accuracy."""
        if record.state != "complete" or record.accuracy is None:
            raise ValueError(
                f"trial {record.number} is {record.state} and has no accuracy: "
                "only complete trials are points of the trade-off"
            )
        return cls(
            number=record.number,
            arch=record.arch,
            latency_ms=record.latency_ms,
            accuracy=record.accuracy,
            macs=record.macs,
            params=record.params,
            baseline=record.baseline,
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return {
            "number": self.number,
            "arch": self.arch,
            "latency_ms": self.latency_ms,
            "accuracy": self.accuracy,
            "macs": self.macs,
            "params": self.params,
            "baseline": self.baseline,
        }


def complete_points(records: list[TrialRecord]) -> list[ParetoPoint]:
    """Every complete trial with an accuracy, as points, by trial number."""
    return [
        ParetoPoint.from_record(r)
        for r in sorted(records, key=lambda r: r.number)
        if r.state == "complete" and r.accuracy is not None
    ]


def pareto_front(records: list[TrialRecord]) -> list[ParetoPoint]:
    """The non-dominated complete trials, fastest first (so accuracy rises along the list)."""
    points = sorted(complete_points(records), key=lambda p: (p.latency_ms, -p.accuracy, p.number))
    front: list[ParetoPoint] = []
    for point in points:
        # Sorted by latency, then best accuracy first: a point is dominated exactly when an
        # earlier (no slower) point is at least as accurate.
        if front and front[-1].accuracy >= point.accuracy:
            continue
        front.append(point)
    return front


def baseline_records(records: list[TrialRecord]) -> list[TrialRecord]:
    """The run's enqueued MobileNetV1 baselines (any state), by predicted latency."""
    return sorted(
        (r for r in records if r.baseline is not None), key=lambda r: (r.latency_ms, r.number)
    )


@dataclass(frozen=True)
class BaselineComparison:
    """How the searched networks compare with one complete MobileNetV1 baseline.

    ``faster`` is the fastest searched (non-baseline) network at least as accurate as the
    baseline, ``better`` the most accurate searched network no slower than it; either is None
    when no searched network qualifies.
    """

    baseline: ParetoPoint
    faster: ParetoPoint | None
    better: ParetoPoint | None

    @property
    def speedup(self) -> float | None:
        """Baseline latency over ``faster``'s latency."""
        if self.faster is None or self.faster.latency_ms <= 0:
            return None
        return self.baseline.latency_ms / self.faster.latency_ms

    @property
    def accuracy_gain(self) -> float | None:
        """``better``'s accuracy minus the baseline's (fraction, not points)."""
        if self.better is None:
            return None
        return self.better.accuracy - self.baseline.accuracy


def compare_baselines(records: list[TrialRecord]) -> list[BaselineComparison]:
    """Per complete baseline: the fastest searched network as accurate, the best no slower."""
    points = complete_points(records)
    searched = [p for p in points if p.baseline is None]
    result = []
    for base in sorted((p for p in points if p.baseline is not None), key=lambda p: p.latency_ms):
        as_accurate = [p for p in searched if p.accuracy >= base.accuracy]
        no_slower = [p for p in searched if p.latency_ms <= base.latency_ms]
        faster = min(as_accurate, key=lambda p: (p.latency_ms, -p.accuracy, p.number), default=None)
        better = max(no_slower, key=lambda p: (p.accuracy, -p.latency_ms, -p.number), default=None)
        result.append(BaselineComparison(baseline=base, faster=faster, better=better))
    return result


def feasible(point_latency_ms: float, target_ms: float | None) -> bool:
    """Whether a latency meets the target (every latency does when there is no target)."""
    return target_ms is None or point_latency_ms <= target_ms


def progress(records: list[TrialRecord], target_ms: float | None) -> list[tuple[int, float | None]]:
    """Best feasible accuracy after each recorded trial, by trial number (None until the first)."""
    best: float | None = None
    result = []
    for record in sorted(records, key=lambda r: r.number):
        if (
            record.state == "complete"
            and record.accuracy is not None
            and feasible(record.latency_ms, target_ms)
        ):
            best = record.accuracy if best is None else max(best, record.accuracy)
        result.append((record.number, best))
    return result


@dataclass(frozen=True)
class StateCounts:
    """How many recorded trials ended in each state."""

    complete: int
    infeasible: int
    failed: int

    @property
    def total(self) -> int:
        """All recorded trials."""
        return self.complete + self.infeasible + self.failed


def count_states(records: list[TrialRecord]) -> StateCounts:
    """Count the records per state."""
    return StateCounts(
        complete=sum(r.state == "complete" for r in records),
        infeasible=sum(r.state == "infeasible" for r in records),
        failed=sum(r.state == "failed" for r in records),
    )


def choose(
    records: list[TrialRecord],
    *,
    trial: int | None = None,
    best_under: float | None = None,
    target_ms: float | None = None,
) -> TrialRecord:
    """The trial the user picked: ``trial`` by number, else the most accurate under a bound.

    The bound is ``best_under`` if given, else the run's ``target_ms`` (no bound if that is None
    too). Bad choices raise ``ValueError`` saying what would be accepted.
    """
    if trial is not None and best_under is not None:
        raise ValueError("give either a trial number or a latency bound, not both")
    if not records:
        raise ValueError("the run has no finished trials yet")
    if trial is not None:
        return _by_number(records, trial)
    bound = best_under if best_under is not None else target_ms
    if bound is not None and not bound > 0:
        raise ValueError(f"latency bound must be a positive number of ms, got {bound!r}")
    points = complete_points(records)
    if not points:
        raise ValueError(
            f"the run has no complete trial yet ({_describe_states(records)}): nothing to choose"
        )
    under = [p for p in points if feasible(p.latency_ms, bound)]
    if not under:
        fastest = min(points, key=lambda p: (p.latency_ms, p.number))
        raise ValueError(
            f"no complete trial has a predicted latency <= {bound:g} ms: the fastest is trial "
            f"{fastest.number} at {fastest.latency_ms:.3f} ms"
        )
    best = max(under, key=lambda p: (p.accuracy, -p.latency_ms, -p.number))
    return _by_number(records, best.number)


def _by_number(records: list[TrialRecord], number: int) -> TrialRecord:
    by_number = {r.number: r for r in records}
    record = by_number.get(number)
    if record is None:
        raise ValueError(
            f"no trial {number} in this run: recorded trials are {_ranges(sorted(by_number))}"
        )
    if record.state != "complete" or record.accuracy is None:
        complete = sorted(r.number for r in records if r.state == "complete")
        why = f" ({record.reason})" if record.reason else ""
        raise ValueError(
            f"trial {number} is {record.state}{why} and has no accuracy: choose a complete trial "
            f"({_ranges(complete) if complete else 'none yet'}) or export its arch with --arch"
        )
    return record


def _ranges(numbers: list[int]) -> str:
    """``[0, 1, 2, 5, 7, 8]`` -> ``'0-2, 5, 7-8'``."""
    runs: list[list[int]] = []
    for n in numbers:
        if runs and n == runs[-1][1] + 1:
            runs[-1][1] = n
        else:
            runs.append([n, n])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in runs)


def _describe_states(records: list[TrialRecord]) -> str:
    counts = count_states(records)
    return f"{counts.infeasible} infeasible, {counts.failed} failed"
