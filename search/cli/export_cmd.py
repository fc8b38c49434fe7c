"""``hwnas export``: retrain (optionally) and export a chosen network to PyTorch and ONNX."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from latency.table import LatencyTable


# Long only by its option declarations: one annotated parameter per command-line option.
def export(
    run_dir: Annotated[
        Path | None,
        typer.Argument(help="Run directory to export from (omit with --arch)."),
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Output directory (required).")] = None,
    trial: Annotated[int | None, typer.Option("--trial", help="Export this trial.")] = None,
    best_under: Annotated[
        float | None,
        typer.Option(
            "--best-under",
            help="Export the most accurate trial at most this many ms (default: the run's target).",
        ),
    ] = None,
    arch: Annotated[
        str | None,
        typer.Option(
            "--arch", help="Arch string or baseline name (e.g. mobilenet_v1_0.5_160), no run."
        ),
    ] = None,
    epochs: Annotated[
        float | None,
        typer.Option(
            "--epochs",
            help="Retrain for E epochs on the full training split and report test accuracy.",
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace an existing export in --out.")
    ] = False,
    device: Annotated[
        str | None, typer.Option("--device", help="With --arch: device whose table predicts.")
    ] = None,
    table: Annotated[
        Path | None, typer.Option("--table", help="With --arch: latency table file.")
    ] = None,
    dataset: Annotated[
        str, typer.Option("--dataset", help="With --arch: data set to train/check on.")
    ] = "fashion-mnist",
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="Directory of the data set.")
    ] = None,
    threads: Annotated[
        int | None, typer.Option("--threads", help="Training threads (default: all cores).")
    ] = None,
    measure_threads: Annotated[
        int, typer.Option("--measure-threads", help="onnxruntime threads for the timing.")
    ] = 1,
) -> None:
    """Export a network: model.onnx (verified), model.pt, arch.json, MODEL_CARD.md."""
    from search.export.api import export_arch, export_trial

    if out is None:
        raise ValueError("--out DIR is required: where to write the export")
    if (run_dir is None) == (arch is None):
        raise ValueError("give a RUN_DIR (with --trial N or --best-under MS) or --arch, not both")
    if epochs is not None and not epochs > 0:
        raise ValueError(f"--epochs must be a positive number, got {epochs!r}")
    if measure_threads < 1 or (threads is not None and threads < 1):
        raise ValueError("--threads and --measure-threads must be at least 1")
    from search.study.workers import usable_cores

    train_threads = threads or usable_cores()
    if run_dir is not None:
        if device is not None or table is not None:
            raise ValueError("--device/--table go with --arch; a run uses its own table")
        result = export_trial(
            run_dir,
            out,
            trial=trial,
            best_under=best_under,
            epochs=epochs,
            force=force,
            threads=train_threads,
            measure_threads=measure_threads,
            data_dir=str(data_dir) if data_dir else None,
        )
    else:
        if trial is not None or best_under is not None:
            raise ValueError("--trial and --best-under choose from a run: give RUN_DIR")
        result = export_arch(
            str(arch),
            out,
            dataset=dataset,
            data_dir=str(data_dir) if data_dir else None,
            table=_table(device, table),
            epochs=epochs,
            force=force,
            threads=train_threads,
            measure_threads=measure_threads,
        )
    info = result.info
    typer.echo(f"exported {result.arch.to_str()} to {result.out_dir}")
    if info.test_accuracy is not None:
        typer.echo(f"  test accuracy: {100 * info.test_accuracy:.2f} % ({info.dataset})")
    else:
        typer.echo("  test accuracy: not measured (no --epochs)")
    if info.proxy_accuracy is not None:
        typer.echo(f"  proxy accuracy: {100 * info.proxy_accuracy:.2f} % (search, validation)")
    if info.predicted_ms is not None:
        typer.echo(f"  predicted latency: {info.predicted_ms:.3f} ms on {info.device}")
    if result.measured is not None:
        m = result.measured
        typer.echo(
            f"  measured latency here: {m.median_ms:.3f} ms median (p10 {m.p10_ms:.3f}, "
            f"p90 {m.p90_ms:.3f}, {m.runs} runs, {m.threads} thread(s), {m.runtime})"
        )
    typer.echo(f"  ONNX vs PyTorch max abs diff: {result.max_abs_diff:.2e} ({info.inputs})")
    typer.echo(f"  card: {result.out_dir / 'MODEL_CARD.md'}")


def _table(device: str | None, table: Path | None) -> LatencyTable | None:
    """The table for a run-less export: --table, --device, or None for this machine's."""
    from latency.devices import resolve_table

    if device is None and table is None:
        return None
    return resolve_table(device, table, threads=1)[0]


def register(app: typer.Typer) -> None:
    """Add the ``export`` command to the top-level app."""
    app.command("export")(export)
