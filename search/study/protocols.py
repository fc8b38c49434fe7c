"""The small interfaces the search loop talks through: accuracy, latency and workers.

Latency comes through `latency.table.LatencyModel` (``predict(arch) -> ms``); accuracy through
`Evaluator`; concurrency through `WorkerPool`, whose workers report `Outcome` values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from search.proxy.train import EvalResult
from space import Arch


class Evaluator(Protocol):
    """What a worker needs from an accuracy estimator (e.g. `search.proxy.train.ProxyEvaluator`).

    ``evaluate`` raises for a candidate that cannot be scored (e.g. ``TrainingFailed``).
    """

    def evaluate(self, arch: Arch) -> EvalResult:
        """Proxy accuracy of ``arch`` in [0, 1], with how it was obtained."""
        ...


@dataclass(frozen=True)
class Outcome:
    """What a worker reports for one trial: an accuracy, or the reason it failed."""

    number: int
    accuracy: float | None
    reason: str | None
    train_seconds: float | None
    worker: str
    started: str
    finished: str
    details: dict[str, Any] = field(default_factory=dict)


class WorkerPool(Protocol):
    """Workers that evaluate candidates concurrently (`search.study.workers.RayPool`, ...)."""

    size: int

    def submit(self, number: int, arch: Arch) -> None:
        """Start evaluating ``arch`` for trial ``number`` on a free worker."""
        ...

    def wait(self, timeout: float) -> list[Outcome]:
        """Outcomes finished within ``timeout`` seconds (possibly none)."""
        ...

    def close(self) -> None:
        """Release the workers."""
        ...
