"""Setting up a study: its sampler and storage, its first trials, and recovery after a kill.

A new study gets the space's MobileNetV1 baselines enqueued (fastest first), so they are its first
trials. A study reopened after a kill is reconciled with ``trials.jsonl`` by `recover`: the study
(journal or RDB) is the source of truth. Before a trial is told, its whole record is stored as the
user attribute ``record``; every finished trial whose record is missing from ``trials.jsonl`` (a
kill between ``tell`` and the append) is appended, and every trial left RUNNING is told FAIL with
its reason and re-enqueued. So completed trials are neither lost nor repeated.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Literal

from latency.table import LatencyModel
from search.run.directory import JOURNAL_FILE
from search.run.info import now
from search.run.records import TrialRecord, append_record, read_records
from space import Arch
from space.layers import count_macs, count_params
from space.search_space import SearchSpace

Mode = Literal["target", "pareto"]
MODES: tuple[str, ...] = ("target", "pareto")
SAMPLERS: tuple[str, ...] = ("tpe", "random", "nsga2")
STUDY_NAME = "hwnas"
INTERRUPTED = "interrupted: the driver stopped while the trial ran; its candidate was re-enqueued"


# -- the space's extremes ---------------------------------------------------------------------


def fastest_arch(space: SearchSpace) -> Arch:
    """The minimum-choice arch: lowest resolution, narrowest, shallowest, smallest kernels."""
    return space.smallest()


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


# -- first trials and recovery -----------------------------------------------------------------


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
    left RUNNING are told FAIL (reason recorded) and their parameters enqueued again. A trial
    killed before all its parameters were suggested was never priced nor dispatched: it gets no
    record, and only an enqueued one (a baseline, a re-enqueued candidate) is enqueued again, whole.
    """
    from optuna.trial import TrialState

    recorded = {record.number for record in read_records(run_dir)}
    requeued: list[int] = []
    added = 0
    for trial in study.get_trials(deepcopy=False):
        if trial.state == TrialState.RUNNING:
            keep = ("baseline", "requeued_from")
            attrs = {k: v for k, v in trial.user_attrs.items() if k in keep}
            record = _record_from_attrs(trial, space, latency)
            if record is None:
                study.tell(trial.number, state=TrialState.FAIL)
                fixed = trial.system_attrs.get("fixed_params")
                if fixed:
                    study.enqueue_trial(dict(fixed), user_attrs=attrs)
                    requeued.append(trial.number)
                continue
            study._storage.set_trial_user_attr(trial._trial_id, "interrupted", True)
            study._storage.set_trial_user_attr(trial._trial_id, "fail_reason", INTERRUPTED)
            study._storage.set_trial_user_attr(trial._trial_id, "record", record.to_dict())
            study.tell(trial.number, state=TrialState.FAIL)
            attrs["requeued_from"] = trial.number
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
    trial: Any, space: SearchSpace | None, latency: LatencyModel | None
) -> TrialRecord | None:
    """The interrupted record of a RUNNING trial; None if its candidate was never complete."""
    attrs = dict(trial.user_attrs)
    if "arch" not in attrs:
        # Killed between suggesting and recording: rebuild what the parameters determine.
        try:
            arch = space.from_params(dict(trial.params)) if space is not None else None
        except ValueError:  # killed while suggesting: some parameters are missing
            arch = None
        if arch is None:
            return None
        attrs.update(arch=arch.to_str(), macs=count_macs(arch), params=count_params(arch))
        if latency is not None:
            attrs["latency_ms"] = float(latency.predict(arch))
    return TrialRecord(
        number=trial.number,
        arch=attrs["arch"],
        state="failed",
        latency_ms=float(attrs.get("latency_ms", -1.0)),
        macs=int(attrs.get("macs", 0)),
        params=int(attrs.get("params", 0)),
        baseline=attrs.get("baseline"),
        reason=INTERRUPTED,
        started=attrs.get("started"),
        finished=now(),
        worker=attrs.get("worker"),
        optuna_params=dict(trial.params),
    )
