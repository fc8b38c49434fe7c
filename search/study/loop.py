"""The search loop: an Optuna study (ask-and-tell) scored by latency first, accuracy second.

One driver process owns the study. It asks a candidate, prices it with the latency table (ms), and
either records it as infeasible at once (over the target: Optuna's constraint ``latency`` > 0,
never trained) or hands it to a free worker of a `WorkerPool` (proxy training). As soon as a
worker frees, the next candidate is asked, so every worker stays busy.

Constraints (Optuna 5): `optuna.trial.Trial.set_constraint` stores ``constraints:latency`` as a
trial system attribute before `Study.tell`; ``tell`` calls ``sampler.after_trial`` and the TPE
sampler reads ``FrozenTrial.constraints`` when it splits trials (infeasible ones rank below every
feasible one). The samplers' ``constraints_func`` argument is deprecated in 5.0, so it is not
used. An infeasible trial is told COMPLETE (TPE only learns from COMPLETE/PRUNED trials) with
accuracy 0.0 as its placeholder value; its record says ``infeasible`` with no accuracy.

Trial budget: ``n_trials`` counts the trials that cost a worker's time: trained (complete) and
failed ones. Infeasible candidates and repeats of an already scored architecture cost micro-
seconds and are free, up to `free_cap` of them (then the search stops and says why: the target
is too tight for the sampler to find feasible candidates). Trials a killed driver interrupted are
failed on resume (`search.study.setup.recover`), proposed again, and do not count.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from latency.table import LatencyModel
from search.run.info import now
from search.run.records import TrialRecord, append_record, read_records
from search.study.protocols import Outcome, WorkerPool
from search.study.setup import INTERRUPTED, MODES, Mode, recover
from space import Arch
from space.layers import count_macs, count_params
from space.search_space import SearchSpace


@dataclass
class Progress:
    """Counters the live display shows; a snapshot is passed to the driver's ``on_progress``."""

    n_trials: int
    workers: int
    done: int = 0  # trials that cost budget: trained or failed
    complete: int = 0  # repeats of a scored architecture included
    infeasible: int = 0
    failed: int = 0
    running: int = 0
    resumed: int = 0
    best_accuracy: float | None = None
    best_arch: str | None = None
    best_latency_ms: float | None = None
    started: float = field(default_factory=time.monotonic)
    finished_here: int = 0  # budget trials finished by this process (for the ETA)
    free: int = 0  # infeasible and repeated trials asked by this process
    stopped: str | None = None
    last: str = ""

    @property
    def elapsed(self) -> float:
        """Seconds since this driver started."""
        return time.monotonic() - self.started

    @property
    def eta(self) -> float | None:
        """Seconds left, from this process's pace so far."""
        if self.finished_here == 0 or self.done >= self.n_trials:
            return None if self.done < self.n_trials else 0.0
        return self.elapsed / self.finished_here * (self.n_trials - self.done)

    def count(self, record: TrialRecord, here: bool) -> None:
        """Add one finished trial (``done`` counts only those that cost budget)."""
        if costs_budget(record):
            self.done += 1
            if here:
                self.finished_here += 1
        if record.state == "complete":
            self.complete += 1
            if record.accuracy is not None and (
                self.best_accuracy is None or record.accuracy > self.best_accuracy
            ):
                self.best_accuracy = record.accuracy
                self.best_arch = record.arch
                self.best_latency_ms = record.latency_ms
        elif record.state == "infeasible":
            self.infeasible += 1
        else:
            self.failed += 1


# -- the search -------------------------------------------------------------------------------


@dataclass
class Candidate:
    """A trial that was asked and priced, waiting for its accuracy."""

    trial: Any
    arch: Arch
    latency_ms: float
    baseline: str | None
    started: str


@dataclass
class SearchResult:
    """What `run_search` did: the records it wrote and counts."""

    records: list[TrialRecord]
    progress: Progress
    requeued: list[int]


def is_repeat(record: TrialRecord) -> bool:
    """Whether a complete record reused an earlier trial's score instead of training."""
    return (record.worker or "").startswith("repeat of trial")


def costs_budget(record: TrialRecord) -> bool:
    """Whether a finished trial counts toward ``n_trials`` (trained or failed, not interrupted)."""
    if record.state == "complete":
        return not is_repeat(record)
    return record.state == "failed" and record.reason != INTERRUPTED


def free_cap(n_trials: int) -> int:
    """How many free (infeasible or repeated) trials a search may ask before it gives up."""
    return 20 * n_trials + 100


def counted_trials(study: Any) -> list[Any]:
    """Finished trials that count toward the budget (see `costs_budget`)."""
    from optuna.trial import TrialState

    counted = []
    for trial in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.FAIL)):
        data = trial.user_attrs.get("record")
        if data is not None and costs_budget(TrialRecord.from_dict(data)):
            counted.append(trial)
    return counted


def run_search(
    *,
    study: Any,
    space: SearchSpace,
    latency: LatencyModel,
    pool: WorkerPool,
    run_dir: Path,
    target_ms: float,
    mode: Mode,
    n_trials: int,
    on_progress: Callable[[Progress], None] | None = None,
    on_record: Callable[[TrialRecord], None] | None = None,
    poll_seconds: float = 0.5,
) -> SearchResult:
    """Run (or continue) the study until ``n_trials`` trials have finished.

    The caller opens ``study`` (`search.study.setup.open_study`), enqueues baselines for a new
    study (`search.study.setup.enqueue_baselines`) and owns ``pool``; this loop asks, prices,
    dispatches and tells.
    """
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}: expected one of {', '.join(MODES)}")
    requeued, _ = recover(study, run_dir, space, latency)
    progress = Progress(n_trials=n_trials, workers=pool.size)
    for record in read_records(run_dir):
        if record.reason != INTERRUPTED:
            progress.count(record, here=False)
    progress.resumed = progress.done
    loop = _Loop(
        study=study,
        space=space,
        latency=latency,
        pool=pool,
        run_dir=run_dir,
        target_ms=target_ms,
        mode=mode,
        progress=progress,
        by_arch=_scored_archs(study),
        on_progress=on_progress,
        on_record=on_record,
    )
    loop.report()
    while True:
        loop.fill_workers(n_trials)
        if not loop.running:
            break
        for outcome in pool.wait(poll_seconds):
            loop.tell_outcome(outcome)
        loop.report()
    loop.report()
    return SearchResult(records=loop.written, progress=progress, requeued=requeued)


@dataclass
class _Loop:
    """The state of one `run_search` call and its steps: ask, finish at once or dispatch, tell."""

    study: Any
    space: SearchSpace
    latency: LatencyModel
    pool: WorkerPool
    run_dir: Path
    target_ms: float
    mode: Mode
    progress: Progress
    by_arch: dict[str, tuple[int, float]]
    on_progress: Callable[[Progress], None] | None
    on_record: Callable[[TrialRecord], None] | None
    running: dict[int, Candidate] = field(default_factory=dict)
    written: list[TrialRecord] = field(default_factory=list)

    def report(self) -> None:
        self.progress.running = len(self.running)
        if self.on_progress is not None:
            self.on_progress(self.progress)

    def values_for(self, accuracy: float, latency_ms: float) -> list[float]:
        return [accuracy] if self.mode == "target" else [accuracy, latency_ms]

    def finish(self, candidate: Candidate, record: TrialRecord, values: Any, state: Any) -> None:
        """Tell the study, append the record, update the counters."""
        trial = candidate.trial
        trial.set_user_attr("record", record.to_dict())
        self.study.tell(trial, values, state=state)
        append_record(self.run_dir, record)
        self.written.append(record)
        self.progress.running = len(self.running)
        self.progress.count(record, here=True)
        self.progress.last = _describe(record)
        if record.state == "complete" and record.accuracy is not None:
            self.by_arch.setdefault(record.arch, (record.number, record.accuracy))
        if self.on_record is not None:
            self.on_record(record)

    def fill_workers(self, n_trials: int) -> None:
        """Ask while a worker is free; infeasible and repeated candidates finish at once."""
        budget_left = n_trials - len(counted_trials(self.study)) - len(self.running)
        cap = free_cap(n_trials)
        while budget_left > 0 and len(self.running) < self.pool.size:
            if self.progress.stopped is not None:
                return
            if self.progress.free >= cap:
                self.progress.stopped = (
                    f"stopped after {self.progress.free} infeasible or repeated candidates (cap "
                    f"{cap}): the target {self.target_ms:g} ms leaves too little of the space for "
                    "the sampler"
                )
                return
            candidate = _ask(self.study, self.space, self.latency, self.target_ms)
            if not self.finish_free(candidate):
                self.running[candidate.trial.number] = candidate
                self.pool.submit(candidate.trial.number, candidate.arch)
                budget_left -= 1
            self.report()

    def finish_free(self, candidate: Candidate) -> bool:
        """Finish an infeasible or already scored candidate at once; False if it needs a worker."""
        from optuna.trial import TrialState

        base = _base_record(candidate)
        if candidate.latency_ms > self.target_ms:
            reason = f"predicted {candidate.latency_ms:.3f} ms > target {self.target_ms:g} ms"
            record = replace(base, state="infeasible", reason=reason, finished=now())
            values = self.values_for(0.0, candidate.latency_ms)
        elif candidate.arch.to_str() in self.by_arch:
            # The proxy is seeded, so the same network scores the same: do not train it twice.
            first, accuracy = self.by_arch[candidate.arch.to_str()]
            record = replace(
                base,
                state="complete",
                accuracy=accuracy,
                train_seconds=0.0,
                worker=f"repeat of trial {first}",
                finished=now(),
            )
            values = self.values_for(accuracy, candidate.latency_ms)
        else:
            return False
        self.finish(candidate, record, values, TrialState.COMPLETE)
        self.progress.free += 1
        return True

    def tell_outcome(self, outcome: Outcome) -> None:
        """Record what a worker reported for one of the running candidates."""
        from optuna.trial import TrialState

        candidate = self.running.pop(outcome.number)
        base = replace(
            _base_record(candidate),
            started=outcome.started,
            finished=outcome.finished,
            worker=outcome.worker,
            train_seconds=outcome.train_seconds,
        )
        for key, value in outcome.details.items():
            candidate.trial.set_user_attr(key, value)
        if outcome.accuracy is None:
            candidate.trial.set_user_attr("fail_reason", outcome.reason)
            record = replace(base, state="failed", reason=outcome.reason)
            self.finish(candidate, record, None, TrialState.FAIL)
        else:
            record = replace(base, state="complete", accuracy=outcome.accuracy)
            values = self.values_for(outcome.accuracy, candidate.latency_ms)
            self.finish(candidate, record, values, TrialState.COMPLETE)


def _scored_archs(study: Any) -> dict[str, tuple[int, float]]:
    from optuna.trial import TrialState

    found: dict[str, tuple[int, float]] = {}
    for trial in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
        record = trial.user_attrs.get("record") or {}
        if record.get("state") == "complete" and record.get("accuracy") is not None:
            found.setdefault(record["arch"], (trial.number, float(record["accuracy"])))
    return found


def _ask(study: Any, space: SearchSpace, latency: LatencyModel, target_ms: float) -> Candidate:
    trial = study.ask()
    arch = space.suggest(trial)
    latency_ms = float(latency.predict(arch))
    baseline = trial.user_attrs.get("baseline")
    started = now()
    trial.set_user_attr("arch", arch.to_str())
    trial.set_user_attr("latency_ms", latency_ms)
    trial.set_user_attr("macs", count_macs(arch))
    trial.set_user_attr("params", count_params(arch))
    trial.set_user_attr("started", started)
    # Feasible iff <= 0; TPE and NSGA-II rank infeasible trials by this violation.
    trial.set_constraint("latency", latency_ms - target_ms)
    return Candidate(trial, arch, latency_ms, baseline, started)


def _base_record(candidate: Candidate) -> TrialRecord:
    attrs = candidate.trial.user_attrs
    return TrialRecord(
        number=candidate.trial.number,
        arch=candidate.arch.to_str(),
        state="failed",
        latency_ms=candidate.latency_ms,
        macs=int(attrs["macs"]),
        params=int(attrs["params"]),
        baseline=candidate.baseline,
        started=candidate.started,
        optuna_params=dict(candidate.trial.params),
    )


def _describe(record: TrialRecord) -> str:
    name = f" ({record.baseline})" if record.baseline else ""
    if record.state == "complete":
        return (
            f"trial {record.number}{name}: accuracy {record.accuracy:.4f}, "
            f"{record.latency_ms:.2f} ms"
        )
    return f"trial {record.number}{name}: {record.state}: {record.reason}"
