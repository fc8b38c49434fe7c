"""A whole search from validated settings: what ``hwnas search`` does, minus parsing and printing.

`SearchJob` runs in four steps, so that a caller can show each (the CLI draws a status line and
a live display between them):

1. `SearchJob.plan`: check every setting, load the data set (before the table: a missing data set
   must not wait for a table build), resolve the latency table (building this machine's on first
   use), the target and the run directory, and refuse a run directory made with other settings.
   Nothing is written but the table.
2. `SearchJob.start`: claim the run directory, write ``run.json``, open the study (baselines
   first for a new one). Returns False when every trial is already done (then nothing starts).
3. `SearchJob.start_workers`: start the Ray workers.
4. `SearchJob.run`: the search loop (`search.study.loop.run_search`) until the budget is spent.
"""

from __future__ import annotations

import time
import tomllib
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import IO, Any, cast

from latency.bundle_runner import slug
from latency.devices import resolve_table
from latency.table import LatencyTable
from search.run.directory import JOURNAL_FILE, claim_run_dir, existing_info
from search.run.info import (
    ArchLatency,
    DatasetInfo,
    RunInfo,
    RunSettings,
    Session,
    TableInfo,
    now,
    software_versions,
    write_run_info,
)
from search.run.records import TrialRecord, read_records
from search.study import setup
from search.study.loop import Progress, SearchResult, counted_trials, run_search
from search.study.setup import MODES, SAMPLERS, Mode
from search.study.workers import usable_cores
from space.search_space import SearchSpace

DEFAULT_TRIALS = 50  # a small real search: about 4-5 min here with 2 workers (100 took 8.6 min)
DEFAULT_WORKERS = 2


@dataclass(frozen=True)
class SearchRequest:
    """What a search was asked for, before anything is resolved (the CLI's options as values).

    ``fake_seconds`` replaces proxy training by `search.testing.FakeEvaluator` (tests only).
    """

    target_ms: float | None = None
    device: str | None = None
    table: Path | None = None
    trials: int = DEFAULT_TRIALS
    workers: int = DEFAULT_WORKERS
    ray_address: str | None = None
    storage: str | None = None
    run_dir: Path | None = None
    dataset: str = "fashion-mnist"
    data_dir: Path | None = None
    seed: int = 0
    config: Path | None = None
    mode: str = "target"
    sampler: str = "tpe"
    threads: int | None = None
    command: str | None = None
    fake_seconds: float | None = None

    def check(self) -> None:
        """``ValueError`` for the first setting that is wrong on its own (cheap, no I/O)."""
        if self.trials < 1:
            raise ValueError(f"--trials must be at least 1, got {self.trials}")
        if self.workers < 1:
            raise ValueError(f"--workers must be at least 1, got {self.workers}")
        if self.mode not in MODES:
            raise ValueError(f"--mode {self.mode!r} is not one of {', '.join(MODES)}")
        if self.sampler not in SAMPLERS:
            raise ValueError(f"--sampler {self.sampler!r} is not one of {', '.join(SAMPLERS)}")
        if self.device is not None and self.table is not None:
            raise ValueError("give --device or --table, not both")
        if self.storage is not None and "://" not in self.storage:
            raise ValueError(
                f"--storage {self.storage!r} is not a database URL: expected e.g. "
                "postgresql://user:password@host/db or sqlite:///path.db"
            )
        if self.threads is not None and self.threads < 1:
            raise ValueError(f"--threads must be at least 1, got {self.threads}")


def load_config(path: Path | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """(space overrides, proxy schedule overrides) from a ``--config`` file."""
    if path is None:
        return {}, {}
    try:
        data = tomllib.loads(Path(path).read_text())
    except FileNotFoundError:
        raise ValueError(f"--config {str(path)!r} does not exist") from None
    except tomllib.TOMLDecodeError as err:
        raise ValueError(f"--config {str(path)!r} is not valid TOML: {err}") from None
    if "space" in data or "proxy" in data:
        unknown = sorted(set(data) - {"space", "proxy"})
        if unknown:
            raise ValueError(
                f"unknown table [{unknown[0]}] in --config {str(path)!r}: expected [space], [proxy]"
            )
        return dict(data.get("space", {})), dict(data.get("proxy", {}))
    return data, {}


def proxy_schedule(overrides: dict[str, Any], seed: int) -> dict[str, Any]:
    """The proxy schedule's fields with ``overrides`` applied (validated by `ProxySchedule`).

    The schedule's seed (weights, batch order, training subset) is ``--seed`` unless the config
    sets it.
    """
    from search.proxy.train import ProxySchedule

    schedule = ProxySchedule.from_fields({"seed": seed, **overrides}, source="[proxy] of --config")
    return asdict(schedule)


@dataclass
class SearchJob:
    """One search, planned (`plan`), then started (`start`, `start_workers`) and run (`run`)."""

    request: SearchRequest
    space: SearchSpace
    schedule: dict[str, Any]
    dataset: DatasetInfo
    table: LatencyTable
    settings: RunSettings
    run_dir: Path
    previous: RunInfo | None
    started_clock: float
    info: RunInfo | None = None
    study: Any = None
    pool: Any = None
    _claim: IO[str] | None = field(default=None, repr=False)

    @property
    def mode(self) -> Mode:
        """The search mode (checked by `SearchRequest.check`)."""
        return cast(Mode, self.request.mode)

    @classmethod
    def plan(
        cls, request: SearchRequest, *, table_progress: Callable[[int, int], None] | None = None
    ) -> SearchJob:
        """Check and resolve everything; ``ValueError`` for any bad setting, before any writing."""
        clock = time.perf_counter()
        request.check()
        space_overrides, proxy_overrides = load_config(request.config)
        base_space = (
            SearchSpace.from_dict(space_overrides, source=f"--config {str(request.config)!r}")
            if space_overrides
            else SearchSpace.default()
        )
        schedule, dataset = _proxy_data(request, proxy_overrides)
        space = base_space.with_task(dataset.in_channels, dataset.num_classes)
        table, table_path = resolve_table(
            request.device, request.table, space=space, threads=1, progress=table_progress
        )
        target_ms, target_source = _target(request.target_ms, space, table)
        setup.check_target(target_ms, space, table, table.device_name)
        name = f"{request.dataset}-{slug(table.device_name)}-{request.mode}-{target_ms:g}ms"
        run_dir = Path(request.run_dir or Path("runs") / f"{name}-s{request.seed}")
        settings = RunSettings(
            target_ms=target_ms,
            target_source=target_source,
            mode=request.mode,
            seed=request.seed,
            sampler=request.sampler,
            device=table.device_name,
            table=str(Path(table_path).resolve()),
            dataset=request.dataset,
            data_dir=str(Path(request.data_dir).resolve()) if request.data_dir else None,
            config={"space": space.to_dict(), "proxy": schedule},
            trials=request.trials,
            workers=request.workers,
            threads_per_worker=request.threads or max(1, usable_cores() // request.workers),
            storage=request.storage or f"journal:{JOURNAL_FILE}",
            ray_address=request.ray_address,
        )
        return cls(
            request=request,
            space=space,
            schedule=schedule,
            dataset=dataset,
            table=table,
            settings=settings,
            run_dir=run_dir,
            previous=existing_info(run_dir, settings),
            started_clock=clock,
        )

    def start(self) -> bool:
        """Claim the run dir, write run.json, open the study; False if no trial is left to run.

        The claim is held until `close`.
        """
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self._claim = claim_run_dir(self.run_dir)
        command = self.request.command or "hwnas search (called from Python)"
        session = Session(
            started=now(), command=command, trials=self.request.trials, workers=self.request.workers
        )
        self.info = write_run_info(self.run_dir, self._describe(command).with_session(session))
        n_existing = len(read_records(self.run_dir))
        # Reseed on resume so that a random sampler does not replay the first session's proposals.
        sampler = setup.make_sampler(
            self.request.sampler, mode=self.mode, seed=self.request.seed + n_existing
        )
        self.study = setup.open_study(
            storage=self.request.storage, run_dir=self.run_dir, mode=self.mode, sampler=sampler
        )
        if not self.study.get_trials(deepcopy=False):
            setup.enqueue_baselines(self.study, self.space, self.table)
        if len(counted_trials(self.study)) >= self.request.trials:
            # Nothing left to run: do not start workers, just reconcile the records.
            setup.recover(self.study, self.run_dir)
            return False
        return True

    def records(self) -> list[TrialRecord]:
        """The run's records as they are now."""
        return read_records(self.run_dir)

    def start_workers(self) -> Any:
        """Start the Ray workers (after `start`); their start-up timings go into run.json."""
        from search.study.workers import ProxyFactory, RayPool

        request = self.request
        factory: Any
        if request.fake_seconds is not None:
            from search.testing import FakeFactory

            factory = FakeFactory(request.fake_seconds)
        else:
            factory = ProxyFactory(
                dataset=request.dataset,
                data_dir=str(request.data_dir) if request.data_dir else None,
                schedule=self.schedule,
                threads=self.settings.threads_per_worker,
                seed=request.seed,
            )
        # On a cluster without --threads, the pool shares the cluster's CPUs among the workers.
        on_cluster = request.ray_address is not None and request.threads is None
        self.pool = RayPool(
            factory,
            workers=request.workers,
            threads=None if on_cluster else self.settings.threads_per_worker,
            address=request.ray_address,
        )
        self.settings = replace(self.settings, threads_per_worker=self.pool.threads)
        timings = self.pool.describe() | {
            "checks_s": round(time.perf_counter() - self.started_clock, 3)
        }
        info = replace(self._require_info(), settings=self.settings)
        self.info = write_run_info(self.run_dir, info.with_last_session(timings=timings))
        return self.pool

    def run(
        self,
        *,
        on_progress: Callable[[Progress], None] | None = None,
        on_record: Callable[[TrialRecord], None] | None = None,
    ) -> SearchResult:
        """Run the search loop on the started workers; closes them and stamps the session."""
        if self.pool is None:
            raise RuntimeError("SearchJob.run needs start() and start_workers() first")
        try:
            return run_search(
                study=self.study,
                space=self.space,
                latency=self.table,
                pool=self.pool,
                run_dir=self.run_dir,
                target_ms=self.settings.target_ms,
                mode=self.mode,
                n_trials=self.request.trials,
                on_progress=on_progress,
                on_record=on_record,
            )
        finally:
            self.pool.close()
            self.pool = None
            info = self._require_info().with_last_session(finished=now())
            self.info = write_run_info(self.run_dir, info)

    def close(self) -> None:
        """Release the workers (if still up) and the claim on the run directory."""
        if self.pool is not None:
            self.pool.close()
            self.pool = None
        if self._claim is not None:
            self._claim.close()
            self._claim = None

    def _require_info(self) -> RunInfo:
        if self.info is None:
            raise RuntimeError("SearchJob.start must run first")
        return self.info

    def _describe(self, command: str) -> RunInfo:
        """run.json for this session: what was resolved, the first creation time and sessions."""
        table, space = self.table, self.space
        fastest = setup.fastest_arch(space)
        return RunInfo(
            created=self.previous.created if self.previous else now(),
            command=command,
            settings=self.settings,
            table=TableInfo(
                path=self.settings.table,
                device=table.device,
                device_name=table.device_name,
                provenance=table.provenance,
                protocol=table.protocol,
            ),
            dataset=self.dataset,
            proxy_schedule=self.schedule,
            space=space.to_dict() | {"size": space.size()},
            baselines={name: round(table.predict(arch), 4) for name, arch in space.baselines()},
            fastest_arch=ArchLatency(fastest.to_str(), round(table.predict(fastest), 4)),
            versions=software_versions(),
            sessions=self.previous.sessions if self.previous else (),
        )


def _proxy_data(
    request: SearchRequest, proxy_overrides: dict[str, Any]
) -> tuple[dict[str, Any], DatasetInfo]:
    """The proxy schedule's fields and the data set's description (loading it to check it)."""
    if request.fake_seconds is not None:
        fake = DatasetInfo(name=request.dataset, dir=None, in_channels=1, num_classes=10, fake=True)
        return {"fake_seconds": request.fake_seconds}, fake
    from search.proxy.data import load_dataset

    schedule = proxy_schedule(proxy_overrides, request.seed)
    data = load_dataset(request.dataset, request.data_dir, seed=request.seed)
    described = DatasetInfo(
        name=data.name,
        dir=str(Path(request.data_dir).resolve()) if request.data_dir else None,
        in_channels=data.in_channels,
        num_classes=data.num_classes,
        train=len(data.train_labels),
        test=len(data.test_labels),
        image_shape=[int(x) for x in data.train_images.shape[1:]],
    )
    return schedule, described


def _target(
    target_ms: float | None, space: SearchSpace, table: LatencyTable
) -> tuple[float, str]:
    """The latency target and where it came from (the option, or the default baseline's)."""
    if target_ms is not None:
        return target_ms, "--target-ms"
    name, arch = setup.default_target_arch(space)
    return float(table.predict(arch)), f"default: predicted latency of {name}"
