"""``hwnas search``: the main job.

Everything that can be wrong with the input (workers, trials, config, data set, device or table,
target, a run directory made with other settings) is checked before Ray starts or anything trains.
"""

from __future__ import annotations

import os
import shlex
import sys
import tomllib
from dataclasses import asdict, fields
from pathlib import Path
from typing import Annotated, Any, cast

import typer

from search.driver import MODES, SAMPLERS, Mode

DEFAULT_TRIALS = 50  # a small real search: about 4-5 min here with 2 workers (100 took 8.6 min)
DEFAULT_WORKERS = 2
FAKE_ENV = "HWNAS_FAKE_EVALUATOR"  # test hook: seconds per fake evaluation (no training)


def register(app: typer.Typer) -> None:
    """Add the ``search`` command to the top-level app."""
    app.command("search")(search)


def search(
    target_ms: Annotated[
        float | None,
        typer.Option(
            "--target-ms",
            help="Latency budget in ms on the device. Default: the predicted latency of "
            "MobileNetV1 0.5 at 160 px on that device (recorded in run.json).",
        ),
    ] = None,
    device: Annotated[
        str | None,
        typer.Option("--device", help="Named device table (see 'hwnas latency devices')."),
    ] = None,
    table: Annotated[Path | None, typer.Option("--table", help="A latency table file.")] = None,
    trials: Annotated[
        int, typer.Option("--trials", help="Trials to train (infeasible candidates are free).")
    ] = DEFAULT_TRIALS,
    workers: Annotated[int, typer.Option("--workers", help="Ray workers (actors).")] = (
        DEFAULT_WORKERS
    ),
    ray_address: Annotated[
        str | None,
        typer.Option("--ray-address", help="Join this Ray cluster (e.g. 10.0.0.1:6379 or auto)."),
    ] = None,
    storage: Annotated[
        str | None,
        typer.Option(
            "--storage",
            help="Optuna RDB URL (postgresql://user:pw@host/db); default RUN_DIR/study.journal.",
        ),
    ] = None,
    run_dir: Annotated[
        Path | None,
        typer.Option(
            "--run-dir",
            help="Run directory; default runs/<dataset>-<device>-<mode>-<target>ms-s<seed>. "
            "The same command on the same directory resumes.",
        ),
    ] = None,
    dataset: Annotated[str, typer.Option("--dataset", help="Proxy data set.")] = "fashion-mnist",
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="Where the data set lies.")
    ] = None,
    seed: Annotated[
        int, typer.Option("--seed", help="Seed of the sampler, data split and training.")
    ] = 0,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            help="TOML with optional \\[space] (keys of space/default_space.toml) and \\[proxy] "
            "(ProxySchedule fields) tables; a file without tables is a space config.",
        ),
    ] = None,
    mode: Annotated[
        str,
        typer.Option("--mode", help="target: max accuracy s.t. latency <= target; pareto: both."),
    ] = "target",
    sampler: Annotated[
        str, typer.Option("--sampler", help="tpe, random or nsga2 (for benchmarks).")
    ] = "tpe",
    threads: Annotated[
        int | None,
        typer.Option(
            "--threads",
            help="Torch threads per worker. Default: this machine's cores // workers "
            "(on a cluster: its CPUs // workers, at most one node's).",
        ),
    ] = None,
) -> None:
    """Search the space for the most accurate networks that meet a latency target."""
    argv = ["hwnas", *sys.argv[1:]] if sys.argv and "hwnas" in Path(sys.argv[0]).name else None
    run_search_command(
        target_ms=target_ms,
        device=device,
        table=table,
        trials=trials,
        workers=workers,
        ray_address=ray_address,
        storage=storage,
        run_dir=run_dir,
        dataset=dataset,
        data_dir=data_dir,
        seed=seed,
        config=config,
        mode=mode,
        sampler=sampler,
        threads=threads,
        command=shlex.join(argv) if argv else None,
    )


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
    from search.proxy import ProxySchedule

    overrides = {"seed": seed, **overrides}

    known = {f.name for f in fields(ProxySchedule)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ValueError(
            f"unknown [proxy] key {unknown[0]!r} in --config: "
            f"expected one of {', '.join(sorted(known))}"
        )
    try:
        schedule = ProxySchedule(**overrides)
    except TypeError as err:
        raise ValueError(f"[proxy] in --config: {err}") from None
    return asdict(schedule)


def run_search_command(
    *,
    target_ms: float | None,
    device: str | None,
    table: Path | None,
    trials: int,
    workers: int,
    ray_address: str | None,
    storage: str | None,
    run_dir: Path | None,
    dataset: str,
    data_dir: Path | None,
    seed: int,
    config: Path | None,
    mode: str,
    sampler: str,
    command: str | None,
    threads: int | None = None,
) -> None:
    """Check everything, then run or resume the search with a live display."""
    import time

    from rich.console import Console

    from search import driver
    from search.records import read_records
    from space.search_space import SearchSpace

    console = Console(soft_wrap=True)
    clock = time.perf_counter()
    # -- cheap checks first ----------------------------------------------------------------
    if trials < 1:
        raise ValueError(f"--trials must be at least 1, got {trials}")
    if workers < 1:
        raise ValueError(f"--workers must be at least 1, got {workers}")
    if mode not in MODES:
        raise ValueError(f"--mode {mode!r} is not one of {', '.join(MODES)}")
    search_mode = cast(Mode, mode)
    if sampler not in SAMPLERS:
        raise ValueError(f"--sampler {sampler!r} is not one of {', '.join(SAMPLERS)}")
    if device is not None and table is not None:
        raise ValueError("give --device or --table, not both")
    if storage is not None and "://" not in storage:
        raise ValueError(
            f"--storage {storage!r} is not a database URL: expected e.g. "
            "postgresql://user:password@host/db or sqlite:///path.db"
        )
    space_overrides, proxy_overrides = load_config(config)
    base_space = (
        SearchSpace.from_dict(space_overrides, source=f"--config {str(config)!r}")
        if space_overrides
        else SearchSpace.default()
    )
    fake = os.environ.get(FAKE_ENV)
    cpu_count = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
    if threads is not None and threads < 1:
        raise ValueError(f"--threads must be at least 1, got {threads}")
    auto_threads = threads is None
    if threads is None:
        threads = max(1, cpu_count // workers)

    # -- data set (before the table: a missing data set must not wait for a table build) ----
    if fake is not None:
        schedule: dict[str, Any] = {"fake_seconds": float(fake)}
        in_channels, num_classes = 1, 10
        data_info: dict[str, Any] = {
            "name": dataset,
            "dir": None,
            "fake": True,
            "in_channels": 1,
            "num_classes": 10,
        }
    else:
        from search.data import load_dataset

        schedule = proxy_schedule(proxy_overrides, seed)
        data = load_dataset(dataset, data_dir, seed=seed)
        in_channels, num_classes = data.in_channels, data.num_classes
        data_info = _describe_dataset(data, dataset, data_dir)
    space = base_space.with_task(in_channels, num_classes)

    # -- latency table ------------------------------------------------------------------------
    with console.status("latency table…") as status:

        def table_progress(done: int, total: int) -> None:
            status.update(
                f"latency table of this machine: measured {done}/{total} layer signatures "
                "(first use only)"
            )

        latency_table, table_path = _resolve_table(device, table, space, table_progress)
    device_name = latency_table.device_name
    if target_ms is None:
        target_name, target_arch = driver.default_target_arch(space)
        target_ms = float(latency_table.predict(target_arch))
        target_source = f"default: predicted latency of {target_name}"
    else:
        target_source = "--target-ms"
    driver.check_target(target_ms, space, latency_table, device_name)

    if run_dir is None:
        run_dir = Path("runs") / (f"{dataset}-{_slug(device_name)}-{mode}-{target_ms:g}ms-s{seed}")
    run_dir = Path(run_dir)
    settings = {
        "target_ms": target_ms,
        "target_source": target_source,
        "mode": mode,
        "seed": seed,
        "sampler": sampler,
        "device": device_name,
        "table": str(Path(table_path).resolve()),
        "dataset": dataset,
        "data_dir": str(Path(data_dir).resolve()) if data_dir else None,
        "config": {"space": space.to_dict(), "proxy": schedule},
        "trials": trials,
        "workers": workers,
        "threads_per_worker": threads,
        "storage": storage or f"journal:{driver.JOURNAL_FILE}",
        "ray_address": ray_address,
    }
    old = driver.check_settings(run_dir, settings)
    run_dir.mkdir(parents=True, exist_ok=True)
    _driver_claim = driver.claim_run_dir(run_dir)  # held until this command returns
    info: dict[str, Any] = old or {"format": driver.RUN_FORMAT, "created": driver.now()}
    info.update(
        command=command or "hwnas search (called from Python)",
        settings=settings,
        table={
            "path": settings["table"],
            "device": latency_table.device,
            "device_name": device_name,
            "provenance": latency_table.provenance,
            "protocol": latency_table.protocol,
        },
        dataset=data_info,
        proxy_schedule=schedule,
        space=space.to_dict() | {"size": space.size()},
        baselines={name: round(latency_table.predict(arch), 4) for name, arch in space.baselines()},
        fastest_arch={
            "arch": driver.fastest_arch(space).to_str(),
            "latency_ms": round(latency_table.predict(driver.fastest_arch(space)), 4),
        },
        versions=driver.software_versions(),
    )
    info.setdefault("sessions", []).append(
        {"started": driver.now(), "command": info["command"], "trials": trials, "workers": workers}
    )
    driver.write_run_info(run_dir, info)

    # -- study, workers, search ---------------------------------------------------------------
    n_existing = len(read_records(run_dir))
    # Reseed on resume so that a random sampler does not replay the first session's proposals.
    sampler_obj = driver.make_sampler(sampler, mode=search_mode, seed=seed + n_existing)
    study = driver.open_study(
        storage=storage,
        run_dir=run_dir,
        mode=search_mode,
        sampler=sampler_obj,
    )
    if not study.get_trials(deepcopy=False):
        driver.enqueue_baselines(study, space, latency_table)

    if len(driver.counted_trials(study)) >= trials:
        # Nothing left to run: do not start Ray, just reconcile records and report.
        driver.recover(study, run_dir)
        records = read_records(run_dir)
        console.print(f"{run_dir}: all {trials} trials already finished ({len(records)} records)")
        return

    from search.workers import FakeFactory, ProxyFactory, RayPool

    factory: Any = (
        FakeFactory(float(fake))
        if fake is not None
        else ProxyFactory(
            dataset=dataset,
            data_dir=str(data_dir) if data_dir else None,
            schedule=schedule,
            threads=threads,
            seed=seed,
        )
    )
    with console.status(f"starting {workers} Ray worker(s)…"):
        pool = RayPool(
            factory,
            workers=workers,
            threads=None if ray_address and auto_threads else threads,
            address=ray_address,
        )
    settings["threads_per_worker"] = pool.threads
    info["sessions"][-1]["timings"] = pool.describe() | {
        "checks_s": round(time.perf_counter() - clock, 3)
    }
    driver.write_run_info(run_dir, info)
    console.print(
        f"run dir {run_dir}: target {target_ms:g} ms on {device_name} ({target_source}), "
        f"mode {mode}, {trials} trials, {workers} worker(s) x {threads} thread(s); "
        f"Ray up in {pool.ray_start_seconds:.1f} s, workers in {pool.workers_ready_seconds:.1f} s"
    )
    from search.progress import live_progress

    try:
        with live_progress(console) as (on_progress, on_record):
            result = driver.run_search(
                study=study,
                space=space,
                latency=latency_table,
                pool=pool,
                run_dir=run_dir,
                target_ms=target_ms,
                mode=search_mode,
                n_trials=trials,
                on_progress=on_progress,
                on_record=on_record,
            )
    finally:
        pool.close()
        info["sessions"][-1]["finished"] = driver.now()
        driver.write_run_info(run_dir, info)
    p = result.progress
    best = (
        f"best feasible accuracy {p.best_accuracy:.4f} at {p.best_latency_ms:.2f} ms: {p.best_arch}"
        if p.best_accuracy is not None
        else "no feasible trial completed"
    )
    if p.stopped:
        console.print(p.stopped)
    console.print(
        f"done: {p.done} trials trained or failed ({p.complete} complete, {p.failed} failed), "
        f"{p.infeasible} infeasible, in {p.elapsed / 60:.1f} min; {best}"
    )
    console.print(f"records: {run_dir / 'trials.jsonl'}, {run_dir / 'trials.csv'}")


def _resolve_table(
    device: str | None, table: Path | None, space: Any, progress: Any
) -> tuple[Any, Path]:
    """`latency.devices.resolve_table`; a plain table file also loads without that module."""
    try:
        from latency.devices import resolve_table
    except ImportError:
        if table is None:
            raise ValueError("no device tables in this install: give --table FILE") from None
        from latency.table import LatencyTable

        return LatencyTable.load(table), Path(table)
    return resolve_table(device, table, space=space, threads=1, progress=progress)


def _describe_dataset(data: Any, name: str, data_dir: Path | None) -> dict[str, Any]:
    sizes: dict[str, Any] = {}
    for attr in ("train_images", "x_train", "images"):
        value = getattr(data, attr, None)
        if value is not None and hasattr(value, "shape"):
            sizes["train"] = int(value.shape[0])
            sizes["image_shape"] = [int(x) for x in value.shape[1:]]
            break
    for attr in ("test_images", "x_test"):
        value = getattr(data, attr, None)
        if value is not None and hasattr(value, "shape"):
            sizes["test"] = int(value.shape[0])
            break
    return {
        "name": getattr(data, "name", name),
        "dir": str(Path(data_dir).resolve()) if data_dir else None,
        "in_channels": data.in_channels,
        "num_classes": data.num_classes,
        **sizes,
    }


def _slug(text: str) -> str:
    keep = "".join(c if c.isalnum() or c in "-_." else "-" for c in text)
    return "-".join(part for part in keep.split("-") if part)[:40] or "device"
