"""``hwnas pareto`` and ``hwnas report``: look at a run directory."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from search.analysis.pareto import (
    BaselineComparison,
    ParetoPoint,
    baseline_records,
    compare_baselines,
    count_states,
    pareto_front,
)
from search.run.directory import Run
from search.run.records import TrialRecord


def _row(cells: list[str], widths: list[int], right: set[int]) -> str:
    return "  ".join(
        cell.rjust(width) if i in right else cell.ljust(width)
        for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
    ).rstrip()


def format_table(header: list[str], rows: list[list[str]], right: set[int]) -> str:
    """Plain aligned columns (pipe- and terminal-friendly)."""
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows, strict=True)]
    lines = [_row(header, widths, right), _row(["-" * w for w in widths], widths, right)]
    lines += [_row(row, widths, right) for row in rows]
    return "\n".join(lines)


def _point_row(p: ParetoPoint | TrialRecord, target_ms: float | None) -> list[str]:
    over = target_ms is not None and p.latency_ms > target_ms
    accuracy = f"{100 * p.accuracy:.2f}" if p.accuracy is not None else "-"
    return [
        str(p.number),
        f"{p.latency_ms:.3f}" + (" >" if over else ""),
        accuracy,
        f"{p.macs / 1e6:.1f}",
        f"{p.params / 1e6:.3f}",
        p.arch,
    ]


HEADER = ["trial", "latency ms", "acc %", "MMACs", "Mparams", "arch"]
RIGHT = {0, 1, 2, 3, 4}


# Long only by its option declarations and its plain-text tables.
def pareto(
    run_dir: Annotated[Path, typer.Argument(help="A run directory written by 'hwnas search'.")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the front as JSON instead.")
    ] = False,
    top: Annotated[
        int | None, typer.Option("--top", min=1, help="Show only the K most accurate front points.")
    ] = None,
    plots: Annotated[
        bool,
        typer.Option("--plots/--no-plots", help="Also draw trials.png, trials.html, progress.png."),
    ] = True,
) -> None:
    """Show the Pareto front (accuracy vs predicted latency) and the MobileNetV1 baselines."""
    run = Run.load(run_dir)
    front = pareto_front(run.records)
    if top is not None:
        keep = {p.number for p in sorted(front, key=lambda p: -p.accuracy)[:top]}
        front = [p for p in front if p.number in keep]
    baselines = baseline_records(run.records)
    comparisons = compare_baselines(run.records)
    counts = count_states(run.records)
    written: list[Path] = []
    if plots and run.records:
        from search.report.markdown import write_plots

        written = write_plots(run)
    if as_json:
        typer.echo(json.dumps(_document(run, front, baselines, comparisons, written), indent=1))
        return
    target = f"target {run.target_ms:g} ms, "
    typer.echo(
        f"{run.path}: {counts.total} trials recorded ({counts.complete} complete, "
        f"{counts.infeasible} infeasible, {counts.failed} failed); {target}device {run.device_name}"
    )
    typer.echo("")
    if front:
        title = f"Pareto front ({len(front)} points" + (f", top {top}" if top else "") + ")"
        typer.echo(title)
        typer.echo(format_table(HEADER, [_point_row(p, run.target_ms) for p in front], RIGHT))
    else:
        typer.echo("Pareto front: no complete trial yet")
    if baselines:
        typer.echo("")
        typer.echo("MobileNetV1 baselines of this run")
        rows = [[r.baseline or "", r.state, *_point_row(r, run.target_ms)[:5]] for r in baselines]
        typer.echo(format_table(["baseline", "state", *HEADER[:5]], rows, {2, 3, 4, 5, 6}))
    if any(c.faster or c.better for c in comparisons):
        typer.echo("")
        rows = []
        for c in comparisons:
            speedup, gain = c.speedup, c.accuracy_gain
            rows.append(
                [
                    c.baseline.baseline or "",
                    f"{speedup:.2f}x (trial {c.faster.number})" if c.faster and speedup else "-",
                    f"{100 * gain:+.2f} (trial {c.better.number})"
                    if c.better and gain is not None
                    else "-",
                ]
            )
        typer.echo(
            format_table(
                ["baseline", "speedup at >= accuracy", "accuracy gain at <= latency"], rows, set()
            )
        )
    if written:
        typer.echo("")
        typer.echo("plots: " + ", ".join(str(p) for p in written))


def _document(
    run: Run,
    front: list[ParetoPoint],
    baselines: list[TrialRecord],
    comparisons: list[BaselineComparison],
    plots: list[Path],
) -> dict[str, Any]:
    """What ``hwnas pareto --json`` prints."""
    counts = count_states(run.records)
    return {
        "run_dir": str(run.path),
        "target_ms": run.target_ms,
        "device": run.device_name,
        "trials": {
            "complete": counts.complete,
            "infeasible": counts.infeasible,
            "failed": counts.failed,
        },
        "front": [p.to_dict() for p in front],
        "baselines": [r.to_dict() for r in baselines],
        "comparisons": [
            {
                "baseline": c.baseline.baseline,
                "faster_trial": c.faster.number if c.faster else None,
                "speedup": c.speedup,
                "better_trial": c.better.number if c.better else None,
                "accuracy_gain": c.accuracy_gain,
            }
            for c in comparisons
        ],
        "plots": [str(p) for p in plots],
    }


def report(
    run_dir: Annotated[Path, typer.Argument(help="A run directory written by 'hwnas search'.")],
    trial: Annotated[int | None, typer.Option("--trial", help="Describe this trial.")] = None,
    best_under: Annotated[
        float | None,
        typer.Option("--best-under", help="Describe the most accurate trial at most this many ms."),
    ] = None,
    table: Annotated[
        Path | None,
        typer.Option("--table", help="Latency table for the breakdown (default: the run's own)."),
    ] = None,
) -> None:
    """Write report.md (settings, table provenance, front, plots, per-layer roofline view)."""
    from search.report.markdown import write_report

    result = write_report(run_dir, trial=trial, best_under=best_under, table=table)
    chosen = result.chosen
    typer.echo(
        f"chosen: trial {chosen.number}, {chosen.latency_ms:.3f} ms, "
        f"{100 * (chosen.accuracy or 0.0):.2f} % proxy accuracy"
    )
    if result.costs is None:
        typer.echo("note: per-layer breakdown skipped (latency table not found; pass --table)")
    typer.echo(f"wrote {result.path} and {', '.join(p.name for p in result.plots)}")


def register(app: typer.Typer) -> None:
    """Add the ``pareto`` and ``report`` commands to the top-level app."""
    app.command("pareto")(pareto)
    app.command("report")(report)
