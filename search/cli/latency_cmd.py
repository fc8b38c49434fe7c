"""``hwnas latency``: build, bundle, import, predict with and validate latency tables."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer

app = typer.Typer(
    help="Per-layer latency tables: build, bundle, import, predict, validate.",
    no_args_is_help=True,
)

CONFIG_HELP = "search space config (TOML); default: the built-in default space"
CHANNELS_HELP = "input channels of the task (default: the config's)"
CLASSES_HELP = "number of classes of the task (default: the config's)"

# Options shared by 'build', 'bundle' and 'validate'.
TaskChannelsOption = Annotated[int | None, typer.Option("--task-channels", help=CHANNELS_HELP)]
TaskClassesOption = Annotated[int | None, typer.Option("--task-classes", help=CLASSES_HELP)]
ActivationOption = Annotated[str, typer.Option("--activation", help="relu or relu6")]
WarmupOption = Annotated[int | None, typer.Option("--warmup", help="warm-up runs per entry")]
MinRunsOption = Annotated[
    int | None, typer.Option("--min-runs", help="minimum timed runs per entry")
]
MaxRunsOption = Annotated[
    int | None, typer.Option("--max-runs", help="maximum timed runs per entry")
]
# Off by default: on the development machine a calibration made predictions worse (see
# results/latency/README.md); it stays for devices where layers slow down inside a network.
CalibrateOption = Annotated[
    int,
    typer.Option(
        "--calibrate",
        help="calibrate on N (>= 4) whole networks timed between the layers (default 0: off)",
    ),
]
BudgetOption = Annotated[float | None, typer.Option("--budget-s", help="time budget per entry (s)")]


def _space(config: Path | None, channels: int | None, classes: int | None) -> Any:
    from space import SearchSpace

    space = SearchSpace.from_toml(config) if config is not None else SearchSpace.default()
    if channels is not None or classes is not None:
        space = space.with_task(
            channels if channels is not None else space.in_channels,
            classes if classes is not None else space.num_classes,
        )
    return space


@contextmanager
def _progress_bar(description: str) -> Iterator[Callable[[int, int], None]]:
    """A rich progress bar with ETA, fed through the library's ``progress(done, total)``."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    # On stderr, so that --json output on stdout stays parseable.
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=False,
    ) as bar:
        task = bar.add_task(description, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def _timing(
    warmup: int | None, min_runs: int | None, max_runs: int | None, budget_s: float | None
) -> dict[str, Any]:
    from latency.bundle_runner import DEFAULTS

    timing = dict(DEFAULTS)
    for key, value in (
        ("warmup", warmup),
        ("min_runs", min_runs),
        ("max_runs", max_runs),
        ("budget_s", budget_s),
    ):
        if value is not None:
            if value < 0 or (key != "warmup" and value == 0):
                raise ValueError(f"--{key.replace('_', '-')} must be positive, got {value}")
            timing[key] = value
    if timing["min_runs"] > timing["max_runs"]:
        raise ValueError(f"--min-runs {timing['min_runs']} exceeds --max-runs {timing['max_runs']}")
    return timing


def _what_to_measure(
    config: Path | None,
    task_channels: int | None,
    task_classes: int | None,
    activation: str,
    calibrate: int,
) -> tuple[Any, list[Any], list[Any]]:
    """The space, its layer signatures and the ``calibrate`` networks (build and bundle)."""
    from latency.bundle_runner import MIN_CALIBRATION_NETWORKS
    from latency.enumerate import space_signatures
    from latency.profile import calibration_networks

    if calibrate < 0 or 0 < calibrate < MIN_CALIBRATION_NETWORKS:
        raise ValueError(
            f"--calibrate must be 0 (no calibration) or >= {MIN_CALIBRATION_NETWORKS} networks, "
            f"got {calibrate}"
        )
    space = _space(config, task_channels, task_classes)
    signatures = space_signatures(space, activation=activation)
    return space, signatures, calibration_networks(space, calibrate) if calibrate else []


def _load(table: Path | None, device: str | None) -> tuple[Any, Path]:
    from latency.devices import resolve_table

    if table is None and device is None:
        raise ValueError("give --table FILE or --device NAME (see 'hwnas latency devices')")
    return resolve_table(device=device, table=table)


@app.command()
def build(
    out: Annotated[Path, typer.Option("--out", help="table file to write (extended if it exists)")],
    config: Annotated[Path | None, typer.Option("--config", help=CONFIG_HELP)] = None,
    threads: Annotated[int, typer.Option("--threads", help="onnxruntime intra-op threads")] = 1,
    task_channels: TaskChannelsOption = None,
    task_classes: TaskClassesOption = None,
    activation: ActivationOption = "relu",
    warmup: WarmupOption = None,
    min_runs: MinRunsOption = None,
    max_runs: MaxRunsOption = None,
    budget_s: BudgetOption = None,
    calibrate: CalibrateOption = 0,
) -> None:
    """Measure every layer signature of the space on this machine (incremental, resumable)."""
    import time

    from latency import bundle_runner
    from latency.profile import OrtMeasurer, build_table

    space, signatures, networks = _what_to_measure(
        config, task_channels, task_classes, activation, calibrate
    )
    timing = _timing(warmup, min_runs, max_runs, budget_s)
    start = time.monotonic()
    label = f"measuring {len(signatures)} signatures"
    if calibrate:
        label += f" and {calibrate} networks x 3 passes"
    with _progress_bar(label) as progress:
        table = build_table(
            signatures,
            out,
            threads=threads,
            device=bundle_runner.describe_device(threads),
            measurer=OrtMeasurer(threads, timing),
            progress=progress,
            provenance={"source": "hwnas latency build", "space": space.to_dict()},
            calibrate_on=networks,
        )
    fit = table.protocol.get("calibration")
    if fit:
        low, high = fit["ratio_range"]
        typer.echo(
            f"calibration on {fit['networks']} whole networks: entries x {fit['scale']:.3f} "
            f"(network / sum of its entries from {low:.3f} to {high:.3f})"
        )
    typer.echo(
        f"wrote {out}: {len(table.entries)} entries for {table.device_name} "
        f"({time.monotonic() - start:.0f} s; per-call overhead {table.network_overhead_ms:.4f} ms)"
    )


@app.command()
def bundle(
    out: Annotated[Path, typer.Option("--out", help="folder to create")],
    config: Annotated[Path | None, typer.Option("--config", help=CONFIG_HELP)] = None,
    threads: Annotated[
        int, typer.Option("--threads", help="thread count suggested in the README")
    ] = 1,
    task_channels: TaskChannelsOption = None,
    task_classes: TaskClassesOption = None,
    activation: ActivationOption = "relu",
    warmup: WarmupOption = None,
    min_runs: MinRunsOption = None,
    max_runs: MaxRunsOption = None,
    budget_s: BudgetOption = None,
    calibrate: CalibrateOption = 0,
) -> None:
    """Write a folder that measures the space's layers on any device with numpy + onnxruntime."""
    from latency.bundle import write_bundle

    if threads < 1:
        raise ValueError(f"--threads must be >= 1, got {threads}")
    space, signatures, networks = _what_to_measure(
        config, task_channels, task_classes, activation, calibrate
    )
    folder = write_bundle(
        signatures,
        out,
        space=space.to_dict(),
        timing=_timing(warmup, min_runs, max_runs, budget_s),
        calibrate_on=networks,
    )
    size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    also = f" and {len(networks)} calibration networks" if networks else ""
    typer.echo(
        f"wrote {folder}: {len(signatures)} layer models{also} ({size / 1e6:.1f} MB); "
        "on the device run "
        f"'python3 run.py --threads {threads}', then 'hwnas latency import table-{threads}t.json'"
    )


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="table JSON (hwnas) or TFLite op profile")],
    format: Annotated[str, typer.Option("--format", help="hwnas or tflite-profile")] = "hwnas",
    arch: Annotated[
        str | None, typer.Option("--arch", help="profiled network as an arch string")
    ] = None,
    network: Annotated[
        str | None, typer.Option("--network", help="profiled network by name")
    ] = None,
    name: Annotated[str | None, typer.Option("--name", help="device name to record")] = None,
) -> None:
    """Validate a table (or convert a TFLite op profile) and add it to the device list."""
    from latency.devices import import_file, import_table

    if format == "hwnas":
        if arch is not None or network is not None:
            raise ValueError("--arch and --network apply to --format tflite-profile only")
        table, path = import_file(file, name)
    elif format == "tflite-profile":
        from latency.arm.tflite import import_tflite_profile
        from space import Arch

        parsed = Arch.parse(arch) if arch is not None else None
        table = import_tflite_profile(Path(file), arch=parsed, network=network, name=name)
        path = import_table(table)
    else:
        raise ValueError(f"unknown --format {format!r}: expected hwnas or tflite-profile")
    typer.echo(f"imported {table.device_name} ({len(table.entries)} entries) -> {path}")


@app.command()
def predict(
    archs: Annotated[
        list[str],
        typer.Argument(help="arch strings, or MobileNetV1 names such as mobilenet_v1_0.5_160"),
    ],
    table: Annotated[Path | None, typer.Option("--table", help="table file")] = None,
    device: Annotated[
        str | None, typer.Option("--device", help="device name (see 'devices')")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print a JSON list")] = False,
) -> None:
    """Predicted milliseconds per architecture (batch 1)."""
    from space import parse_arch_or_baseline

    loaded, _ = _load(table, device)
    parsed = [parse_arch_or_baseline(text) for text in archs]
    results = [
        {"arch": arch.to_str(), "latency_ms": loaded.predict(arch), "device": loaded.device_name}
        for arch in parsed
    ]
    if as_json:
        typer.echo(json.dumps(results, indent=1))
        return
    for row in results:
        typer.echo(f"{row['latency_ms']:10.3f} ms  {row['arch']}")


@app.command()
def devices(as_json: bool = typer.Option(False, "--json", help="print a JSON list")) -> None:
    """The latency tables this installation knows (shipped, imported, this machine's)."""
    from latency.devices import list_devices

    known = list_devices()
    if as_json:
        rows = [{**asdict(d), "path": str(d.path)} for d in known]
        typer.echo(json.dumps(rows, indent=1))
        return
    if not known:
        typer.echo("no tables yet: 'hwnas latency build' or a search builds this machine's")
        return
    from rich.console import Console
    from rich.table import Table

    view = Table(
        "name", "source", "device", "threads", "entries", "measured", "modelled", "provenance"
    )
    for d in known:
        desc = f"{d.device.get('cpu', '?')} ({d.device.get('arch', '?')}, "
        desc += f"{d.device.get('runtime', '?')})"
        view.add_row(
            d.name,
            d.source,
            desc,
            str(d.threads),
            str(d.entries),
            str(d.measured),
            str(d.modelled),
            d.provenance,
        )
    Console(width=160).print(view)


@app.command()
def validate(
    n: Annotated[int, typer.Option("--n", help="number of random architectures")],
    table: Annotated[Path | None, typer.Option("--table", help="table file")] = None,
    device: Annotated[
        str | None, typer.Option("--device", help="device name (see 'devices')")
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="sampling seed")] = 0,
    config: Annotated[Path | None, typer.Option("--config", help=CONFIG_HELP)] = None,
    task_channels: TaskChannelsOption = None,
    task_classes: TaskClassesOption = None,
    out: Annotated[Path, typer.Option("--out", help="folder for CSV/PNG/JSON")] = Path(
        "latency-validation"
    ),
    passes: Annotated[
        int, typer.Option("--passes", help="measure every network once per pass (median)")
    ] = 3,
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
) -> None:
    """Measure N sampled whole networks here and compare with the table and a MAC baseline."""
    from latency.files import write_json_atomic
    from latency.validate import plot_scatter, validate, write_csv

    loaded, _ = _load(table, device)
    space = _space(config, task_channels, task_classes)
    with _progress_bar(f"measuring {n} networks, {passes} passes") as progress:
        report = validate(loaded, space, n=n, seed=seed, progress=progress, passes=passes)
    csv_path = write_csv(report, out / "validation.csv")
    png_path = plot_scatter(report, out / "validation.png")
    write_json_atomic(out / "validation.json", report.to_dict())
    if as_json:
        summary = {k: v for k, v in report.to_dict().items() if k != "rows"}
        typer.echo(json.dumps(summary, indent=1))
        return
    typer.echo(f"{report.device}, {report.threads} thread(s), {report.n} networks, seed {seed}")
    typer.echo(f"{'':14s}{'MAPE':>8s}{'±5%':>8s}{'±10%':>8s}{'tau':>8s}{'rho':>8s}{'max':>8s}")
    for label, m in (("table", report.table), ("MAC baseline", report.baseline)):
        typer.echo(
            f"{label:14s}{m.mape:7.2f}%{m.within_5:8.0%}{m.within_10:8.0%}"
            f"{m.kendall_tau:8.3f}{m.spearman_rho:8.3f}{m.max_abs_error:7.1f}%"
        )
    typer.echo(f"baseline: {report.baseline_fit}")
    if passes > 1:
        typer.echo(
            f"measurement noise: a network's passes spread by {report.median_pass_spread_pct:.1f} "
            "% of its median (median over networks)"
        )
    typer.echo(f"wrote {csv_path}, {png_path}, {out / 'validation.json'}")
