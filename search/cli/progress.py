"""The live display of a running search (rich), drawn from the loop's `Progress` counters."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from search.run.records import TrialRecord
from search.study.loop import Progress


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    seconds = int(seconds)
    return f"{seconds // 3600:d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def status_line(p: Progress) -> str:
    """One line: trials done/running/infeasible/failed, best feasible accuracy, elapsed, ETA."""
    best = (
        f"best {p.best_accuracy:.4f} @ {p.best_latency_ms:.2f} ms"
        if p.best_accuracy is not None and p.best_latency_ms is not None
        else "best -"
    )
    return (
        f"trials {p.done}/{p.n_trials} trained or failed ({p.complete} complete, {p.failed} "
        f"failed), {p.running} running, {p.infeasible} infeasible (not trained) | {best} | "
        f"elapsed {_clock(p.elapsed)} ETA {_clock(p.eta)}"
    )


class _View:
    """A renderable that re-reads the counters at every refresh (so elapsed time ticks)."""

    def __init__(self) -> None:
        self.progress: Progress | None = None

    def __rich__(self) -> str:
        return "starting…" if self.progress is None else status_line(self.progress)


def record_line(record: TrialRecord) -> str:
    """One line for a finished trial."""
    name = f" {record.baseline}" if record.baseline else ""
    if record.state == "complete":
        what = f"accuracy {record.accuracy:.4f}"
        if record.train_seconds:
            what += f" in {record.train_seconds:.0f} s on {record.worker}"
        elif record.worker:
            what += f" ({record.worker})"
    else:
        what = f"{record.state}: {record.reason}"
    return f"[{record.number:3d}]{name} {record.latency_ms:7.2f} ms  {what}"


@contextmanager
def live_progress(
    console: Any,
) -> Iterator[tuple[Callable[[Progress], None], Callable[[TrialRecord], None]]]:
    """A live status line on a terminal, one printed line per finished trial.

    Off a terminal (logs, benchmarks) the status line is printed after each finished trial.
    """
    from rich.live import Live

    view = _View()
    if not console.is_terminal:

        def on_progress_plain(progress: Progress) -> None:
            view.progress = progress

        def on_record_plain(record: TrialRecord) -> None:
            console.print(record_line(record), highlight=False, soft_wrap=True)
            if view.progress is not None:
                console.print("  " + status_line(view.progress), highlight=False, soft_wrap=True)

        yield on_progress_plain, on_record_plain
        return

    with Live(view, console=console, refresh_per_second=2, transient=False) as live:

        def on_progress(progress: Progress) -> None:
            view.progress = progress
            live.refresh()

        def on_record(record: TrialRecord) -> None:
            live.console.print(record_line(record), highlight=False)

        yield on_progress, on_record
