"""``hwnas search``: the main job, run by `search.study.job.SearchJob` and shown live here.

Everything that can be wrong with the input (workers, trials, config, data set, device or table,
target, a run directory made with other settings) is checked before Ray starts or anything trains.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import sys
from pathlib import Path
from typing import Annotated

import typer

from search.study.job import DEFAULT_TRIALS, DEFAULT_WORKERS, SearchJob, SearchRequest
from search.testing import FAKE_ENV


def register(app: typer.Typer) -> None:
    """Add the ``search`` command to the top-level app."""
    app.command("search")(search)


# Long only by its option declarations: one annotated parameter per command-line option.
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
    request = SearchRequest(
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
        fake_seconds=_fake_seconds(),
    )
    run_search_command(request)


def _fake_seconds() -> float | None:
    """Seconds per fake evaluation from `FAKE_ENV` (tests), or None to train for real."""
    value = os.environ.get(FAKE_ENV)
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        raise ValueError(f"{FAKE_ENV}={value!r} is not a number of seconds") from None


def run_search_command(request: SearchRequest) -> None:
    """Plan, start and run the search, with a status line, a live display and a summary."""
    from rich.console import Console

    from search.cli.progress import live_progress

    console = Console(soft_wrap=True)
    with console.status("latency table…") as status:

        def table_progress(done: int, total: int) -> None:
            status.update(
                f"latency table of this machine: measured {done}/{total} layer signatures "
                "(first use only)"
            )

        job = SearchJob.plan(request, table_progress=table_progress)
    with contextlib.closing(job):
        if not job.start():
            console.print(
                f"{job.run_dir}: all {request.trials} trials already finished "
                f"({len(job.records())} records)"
            )
            return
        with console.status(f"starting {request.workers} Ray worker(s)…"):
            pool = job.start_workers()
        settings = job.settings
        console.print(
            f"run dir {job.run_dir}: target {settings.target_ms:g} ms on {settings.device} "
            f"({settings.target_source}), mode {settings.mode}, {settings.trials} trials, "
            f"{settings.workers} worker(s) x {settings.threads_per_worker} thread(s); "
            f"Ray up in {pool.ray_start_seconds:.1f} s, workers in "
            f"{pool.workers_ready_seconds:.1f} s"
        )
        with live_progress(console) as (on_progress, on_record):
            result = job.run(on_progress=on_progress, on_record=on_record)
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
    console.print(f"records: {job.run_dir / 'trials.jsonl'}, {job.run_dir / 'trials.csv'}")
