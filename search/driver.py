"""The search driver: an Optuna study (ask-and-tell) scored by latency first, accuracy second.

One driver process owns the study. It asks a candidate, prices it with the latency table (micro-
seconds), and either records it as infeasible at once (over the target: Optuna's constraint
``latency`` > 0, never trained) or hands it to a free worker of a `WorkerPool` (proxy training). As
soon as a worker frees, the next candidate is asked, so every worker stays busy.

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
failed on resume, proposed again, and do not count.

Resume: the study (journal or RDB) is the source of truth. Before a trial is told, its whole record
is stored as the user attribute ``record``; on resume every finished trial whose record is missing
from ``trials.jsonl`` (a kill between ``tell`` and the append) is appended, and every trial left
RUNNING is told FAIL with its reason and re-enqueued. So completed trials are neither lost nor
repeated.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Literal, Protocol

from latency.table import write_json_atomic
from search.records import (
    RUN_FILE,
    TrialRecord,
    append_record,
    read_records,
    read_run_info,
)
from space import Arch
from space.layers import count_macs, count_params
from space.search_space import SearchSpace

Mode = Literal["target", "pareto"]
MODES: tuple[str, ...] = ("target", "pareto")
SAMPLERS: tuple[str, ...] = ("tpe", "random", "nsga2")
STUDY_NAME = "hwnas"
JOURNAL_FILE = "study.journal"
#: Held (flock) by the one driver writing a run; the kernel drops it when that process dies.
DRIVER_LOCK = ".driver.lock"
#: Optuna's lock beside the journal (optuna.storages.journal._file.LOCK_FILE_SUFFIX).
JOURNAL_LOCK = JOURNAL_FILE + ".lock"
RUN_FORMAT = 1
#: run.json settings that must match for a run directory to be resumed (name -> CLI spelling).
IDENTITY: dict[str, str] = {
    "target_ms": "--target-ms",
    "mode": "--mode",
    "seed": "--seed",
    "device": "--device",
    "table": "--table",
    "dataset": "--dataset",
    "data_dir": "--data-dir",
    "config": "--config",
    "sampler": "--sampler",
}
INTERRUPTED = "interrupted: the driver stopped while the trial ran; its candidate was re-enqueued"


class LatencyModel(Protocol):
    """What the driver needs from a latency predictor (e.g. `latency.table.LatencyTable`)."""

    def predict(self, arch: Arch) -> float:
        """Predicted milliseconds of one forward pass of ``arch`` at batch 1."""
        ...


class Evaluator(Protocol):
    """What a worker needs from an accuracy estimator (e.g. `search.proxy.ProxyEvaluator`).

    ``evaluate`` returns an object with ``accuracy`` and ``train_seconds`` (``EvalResult``) or a
    plain accuracy; it raises for a candidate that cannot be scored (``TrainingFailed``).
    """

    def evaluate(self, arch: Arch) -> Any:
        """Proxy accuracy of ``arch`` in [0, 1]."""
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
    """Workers that evaluate candidates concurrently (`search.workers.RayPool`, `LocalPool`)."""

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


def now() -> str:
    """UTC timestamp, ISO 8601, milliseconds."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def run_evaluation(evaluator: Evaluator, number: int, arch: Arch, worker: str) -> Outcome:
    """Evaluate one candidate, turning every failure into an `Outcome` with its reason."""
    started = now()
    clock = time.perf_counter()
    details: dict[str, Any] = {}
    try:
        result = evaluator.evaluate(arch)
    except Exception as err:  # any failure of one candidate must not stop the search
        reason = f"{type(err).__name__}: {err}".splitlines()[0][:500]
        return Outcome(number, None, reason, time.perf_counter() - clock, worker, started, now())
    if isinstance(result, int | float):
        accuracy = float(result)
        seconds = time.perf_counter() - clock
    else:
        accuracy = float(result.accuracy)
        seconds = float(getattr(result, "train_seconds", time.perf_counter() - clock))
        for name in ("images_per_second", "epochs", "proxy_resolution", "val_images"):
            value = getattr(result, name, None)
            if isinstance(value, int | float):
                details[name] = value
    if not math.isfinite(accuracy):
        return Outcome(number, None, f"accuracy is {accuracy}", seconds, worker, started, now())
    return Outcome(number, accuracy, None, seconds, worker, started, now(), details)


class LocalPool:
    """Evaluates in the driver's process, one candidate at a time (tests, debugging)."""

    def __init__(self, evaluator: Evaluator, *, size: int = 1) -> None:
        self.evaluator = evaluator
        self.size = size
        self._queue: list[tuple[int, Arch]] = []

    def submit(self, number: int, arch: Arch) -> None:
        """Queue the candidate; it is evaluated by the next `wait`."""
        self._queue.append((number, arch))

    def wait(self, timeout: float) -> list[Outcome]:
        """Evaluate the oldest queued candidate."""
        if not self._queue:
            return []
        number, arch = self._queue.pop(0)
        return [run_evaluation(self.evaluator, number, arch, "local")]

    def close(self) -> None:
        """Nothing to release."""


# -- the space's extremes ---------------------------------------------------------------------


def fastest_arch(space: SearchSpace) -> Arch:
    """The minimum-choice arch: lowest resolution, narrowest, shallowest, smallest kernels."""
    return space.from_params(
        {name: min(choices) for name, choices in space.param_choices().items()}
    )


def default_target_arch(space: SearchSpace) -> tuple[str, Arch]:
    """The baseline whose latency is the default target: MobileNetV1 0.5 at 160, else the middle."""
    baselines = space.baselines()
    if not baselines:
        raise ValueError("the search space contains no MobileNetV1 baseline: give --target-ms")
    for name, arch in baselines:
        if name == "mobilenet_v1_0.5_160":
            return name, arch
    return baselines[len(baselines) // 2]


def check_target(target_ms: float, space: SearchSpace, latency: LatencyModel, device: str) -> None:
    """``ValueError`` unless some architecture of the space can meet ``target_ms``."""
    if not (isinstance(target_ms, int | float) and math.isfinite(target_ms) and target_ms > 0):
        raise ValueError(
            f"--target-ms must be a positive number of milliseconds, got {target_ms!r}"
        )
    fastest = fastest_arch(space)
    floor = latency.predict(fastest)
    if target_ms < floor:
        raise ValueError(
            f"target {target_ms:g} ms is below the fastest architecture of the space on {device}: "
            f"{fastest.to_str()} is predicted at {floor:.3f} ms"
        )


# -- the study --------------------------------------------------------------------------------


def make_sampler(name: str, *, mode: Mode, seed: int) -> Any:
    """The Optuna sampler for ``name`` (tpe, random, nsga2), seeded."""
    import optuna

    if name == "tpe":
        # multivariate: stage widths/depths interact; constant liar: W trials run at once.
        return optuna.samplers.TPESampler(
            seed=seed, multivariate=True, constant_liar=True, n_startup_trials=10
        )
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if name == "nsga2":
        return optuna.samplers.NSGAIISampler(seed=seed, population_size=16)
    raise ValueError(f"unknown sampler {name!r}: expected one of {', '.join(SAMPLERS)}")


def claim_run_dir(run_dir: Path) -> IO[str]:
    """Make this process the only driver of ``run_dir`` until it ends (a SIGKILL included).

    Holding the claim, an Optuna journal lock left in the directory can only come from a killed
    driver; Optuna would wait out a 30 s grace period before breaking it, so it is removed here.
    Keep the returned handle open for as long as the search runs.
    """
    import fcntl

    handle = (run_dir / DRIVER_LOCK).open("a")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise ValueError(
            f"run directory {str(run_dir)!r} is in use by another 'hwnas search': "
            "wait for it to finish or use another --run-dir"
        ) from None
    stale = run_dir / JOURNAL_LOCK
    if stale.is_symlink() or stale.exists():
        stale.unlink()
    return handle


def open_study(*, storage: str | None, run_dir: Path, mode: Mode, sampler: Any) -> Any:
    """Create or load the run's study: a journal file in ``run_dir``, or the RDB at ``storage``."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if storage is None:
        from optuna.storages import JournalStorage
        from optuna.storages.journal import JournalFileBackend

        store: Any = JournalStorage(JournalFileBackend(str(run_dir / JOURNAL_FILE)))
    else:
        store = rdb_url(storage)
    directions: list[Any] = ["maximize"] if mode == "target" else ["maximize", "minimize"]
    try:
        return optuna.create_study(
            study_name=STUDY_NAME,
            storage=store,
            sampler=sampler,
            directions=directions,
            load_if_exists=True,
        )
    except ValueError as err:
        raise ValueError(f"cannot open the study in {storage or str(run_dir)!r}: {err}") from None
    except ImportError:
        raise ValueError(
            f"--storage {storage!r} needs a database driver: pip install 'hwnas[postgres]' "
            "(psycopg2) for postgresql:// URLs"
        ) from None


def rdb_url(url: str) -> str:
    """``url`` with a PostgreSQL driver that is installed (SQLAlchemy 2.1 defaults to psycopg 3)."""
    import importlib.util

    if (
        url.startswith("postgresql://")
        and importlib.util.find_spec("psycopg") is None
        and importlib.util.find_spec("psycopg2") is not None
    ):
        return "postgresql+psycopg2://" + url.removeprefix("postgresql://")
    return url


# -- run directory ----------------------------------------------------------------------------


def check_settings(run_dir: Path, settings: dict[str, Any]) -> dict[str, Any] | None:
    """The existing run.json, or None for a new run dir; ``ValueError`` if a setting differs."""
    if not (run_dir / RUN_FILE).exists():
        return None
    info = read_run_info(run_dir)
    old = info.get("settings", {})
    for key, flag in IDENTITY.items():
        before, after = old.get(key), settings.get(key)
        if _differs(before, after):
            raise ValueError(
                f"run directory {str(run_dir)!r} was created with {flag} {_show(before)}, "
                f"this command has {_show(after)}: use the same settings to resume or another "
                "--run-dir"
            )
    return info


def _differs(a: Any, b: Any) -> bool:
    if isinstance(a, int | float) and isinstance(b, int | float):
        return not math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    return bool(a != b)


def _show(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, dict):
        return "a different config"
    return str(value)


def software_versions() -> dict[str, str]:
    """Versions of Python and the libraries a result depends on."""
    from importlib.metadata import PackageNotFoundError, version

    found = {"python": sys.version.split()[0]}
    for name in ("hwnas", "torch", "optuna", "ray", "onnxruntime", "numpy"):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found


def write_run_info(run_dir: Path, info: dict[str, Any]) -> None:
    """Write run.json atomically with a fresh ``updated`` stamp."""
    info["updated"] = now()
    write_json_atomic(run_dir / RUN_FILE, info)


# -- progress ---------------------------------------------------------------------------------


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


def enqueue_baselines(study: Any, space: SearchSpace, latency: LatencyModel) -> list[str]:
    """Enqueue the space's MobileNetV1 baselines, fastest first, so they are the first trials."""
    baselines = sorted(space.baselines(), key=lambda item: latency.predict(item[1]))
    for name, arch in baselines:
        study.enqueue_trial(space.to_params(arch), user_attrs={"baseline": name})
    return [name for name, _ in baselines]


def recover(
    study: Any,
    run_dir: Path,
    space: SearchSpace | None = None,
    latency: LatencyModel | None = None,
) -> tuple[list[int], int]:
    """Finish what a killed driver left behind; returns (re-enqueued trial numbers, records added).

    Finished trials missing from trials.jsonl are appended from their ``record`` attribute; trials
    left RUNNING are told FAIL (reason recorded) and their parameters enqueued again.
    """
    from optuna.trial import TrialState

    recorded = {record.number for record in read_records(run_dir)}
    requeued: list[int] = []
    added = 0
    for trial in study.get_trials(deepcopy=False):
        if trial.state == TrialState.RUNNING:
            if not trial.params:
                # Asked but killed before the space was suggested: nothing to redo.
                study.tell(trial.number, state=TrialState.FAIL)
                continue
            record = _record_from_attrs(trial, "failed", INTERRUPTED, space, latency)
            study._storage.set_trial_user_attr(trial._trial_id, "interrupted", True)
            study._storage.set_trial_user_attr(trial._trial_id, "fail_reason", INTERRUPTED)
            study._storage.set_trial_user_attr(trial._trial_id, "record", record.to_dict())
            study.tell(trial.number, state=TrialState.FAIL)
            attrs = {"requeued_from": trial.number}
            if trial.user_attrs.get("baseline"):
                attrs["baseline"] = trial.user_attrs["baseline"]
            study.enqueue_trial(dict(trial.params), user_attrs=attrs)
            requeued.append(trial.number)
            if trial.number not in recorded:
                append_record(run_dir, record)
                added += 1
        elif trial.state in (TrialState.COMPLETE, TrialState.FAIL) and trial.number not in recorded:
            data = trial.user_attrs.get("record")
            if data is not None:
                append_record(run_dir, TrialRecord.from_dict(data))
                added += 1
    return requeued, added


def _record_from_attrs(
    trial: Any,
    state: str,
    reason: str,
    space: SearchSpace | None,
    latency: LatencyModel | None,
) -> TrialRecord:
    attrs = dict(trial.user_attrs)
    if "arch" not in attrs and space is not None:
        # Killed between suggesting and recording: rebuild what the parameters determine.
        try:
            arch = space.from_params(dict(trial.params))
        except ValueError:
            arch = None
        if arch is not None:
            attrs.update(arch=arch.to_str(), macs=count_macs(arch), params=count_params(arch))
            if latency is not None:
                attrs["latency_ms"] = float(latency.predict(arch))
    return TrialRecord(
        number=trial.number,
        arch=attrs.get("arch", ""),
        state=state,  # type: ignore[arg-type]
        latency_ms=float(attrs.get("latency_ms", -1.0)),
        macs=int(attrs.get("macs", 0)),
        params=int(attrs.get("params", 0)),
        baseline=attrs.get("baseline"),
        reason=reason,
        started=attrs.get("started"),
        finished=now(),
        worker=attrs.get("worker"),
        optuna_params=dict(trial.params),
    )


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

    The caller opens ``study`` (`open_study`), enqueues baselines for a new study
    (`enqueue_baselines`) and owns ``pool``; this loop asks, prices, dispatches and tells.
    """
    from optuna.trial import TrialState

    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}: expected one of {', '.join(MODES)}")
    requeued, _ = recover(study, run_dir, space, latency)
    progress = Progress(n_trials=n_trials, workers=pool.size)
    for record in read_records(run_dir):
        if record.reason != INTERRUPTED:
            progress.count(record, here=False)
    progress.resumed = progress.done
    written: list[TrialRecord] = []
    running: dict[int, Candidate] = {}
    by_arch = _scored_archs(study)

    def finish(candidate: Candidate, record: TrialRecord, values: Any, state: Any) -> None:
        trial = candidate.trial
        trial.set_user_attr("record", record.to_dict())
        study.tell(trial, values, state=state)
        append_record(run_dir, record)
        written.append(record)
        progress.running = len(running)
        progress.count(record, here=True)
        progress.last = _describe(record)
        if record.state == "complete" and record.accuracy is not None:
            by_arch.setdefault(record.arch, (record.number, record.accuracy))
        if on_record is not None:
            on_record(record)

    def values_for(accuracy: float, latency_ms: float) -> list[float]:
        return [accuracy] if mode == "target" else [accuracy, latency_ms]

    def report() -> None:
        progress.running = len(running)
        if on_progress is not None:
            on_progress(progress)

    report()
    cap = free_cap(n_trials)
    while True:
        budget_left = n_trials - len(counted_trials(study)) - len(running)
        # Ask while a worker is free; infeasible and repeated candidates finish at once.
        while budget_left > 0 and len(running) < pool.size and progress.stopped is None:
            if progress.free >= cap:
                progress.stopped = (
                    f"stopped after {progress.free} infeasible or repeated candidates (cap "
                    f"{cap}): the target {target_ms:g} ms leaves too little of the space for "
                    "the sampler"
                )
                break
            candidate = _ask(study, space, latency, target_ms)
            arch_str = candidate.arch.to_str()
            base = _base_record(candidate)
            if candidate.latency_ms > target_ms:
                reason = f"predicted {candidate.latency_ms:.3f} ms > target {target_ms:g} ms"
                record = replace(base, state="infeasible", reason=reason, finished=now())
                finish(
                    candidate, record, values_for(0.0, candidate.latency_ms), TrialState.COMPLETE
                )
                progress.free += 1
            elif arch_str in by_arch:
                # The proxy is seeded, so the same network scores the same: do not train it twice.
                first, accuracy = by_arch[arch_str]
                record = replace(
                    base,
                    state="complete",
                    accuracy=accuracy,
                    train_seconds=0.0,
                    worker=f"repeat of trial {first}",
                    finished=now(),
                )
                finish(
                    candidate,
                    record,
                    values_for(accuracy, candidate.latency_ms),
                    TrialState.COMPLETE,
                )
                progress.free += 1
            else:
                running[candidate.trial.number] = candidate
                pool.submit(candidate.trial.number, candidate.arch)
                budget_left -= 1
            report()
        if not running:
            break
        for outcome in pool.wait(poll_seconds):
            candidate = running.pop(outcome.number)
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
                finish(candidate, record, None, TrialState.FAIL)
            else:
                record = replace(base, state="complete", accuracy=outcome.accuracy)
                finish(
                    candidate,
                    record,
                    values_for(outcome.accuracy, candidate.latency_ms),
                    TrialState.COMPLETE,
                )
        report()
    report()
    return SearchResult(records=written, progress=progress, requeued=requeued)


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


def run_settings_dict(**settings: Any) -> dict[str, Any]:
    """Settings as plain JSON data (Paths become strings)."""
    return {k: (str(v) if isinstance(v, Path) else v) for k, v in settings.items()}
