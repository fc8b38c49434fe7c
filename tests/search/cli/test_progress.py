"""The live display's lines, drawn from the loop's counters."""

from __future__ import annotations

from search.cli.progress import record_line, status_line
from search.run.records import TrialRecord
from search.study.loop import Progress


def test_progress_line_and_trial_lines() -> None:
    progress = Progress(n_trials=10, workers=2)
    base = dict(arch="a", latency_ms=1.5, macs=1, params=1)
    progress.count(TrialRecord(number=0, state="complete", accuracy=0.8, **base), True)
    progress.count(TrialRecord(number=1, state="infeasible", reason="slow", **base), True)
    progress.count(TrialRecord(number=2, state="failed", reason="nan", **base), True)
    line = status_line(progress)
    assert line.startswith(
        "trials 2/10 trained or failed (1 complete, 1 failed), 0 running, 1 infeasible (not "
        "trained) | best 0.8000 @ 1.50 ms | elapsed 0:00:00 ETA 0:00:00"
    )
    record = TrialRecord(
        number=3, state="complete", accuracy=0.9, baseline="mobilenet_v1_0.25_128",
        train_seconds=12.3, worker="worker-1", **base,
    )  # fmt: skip
    assert record_line(record) == (
        "[  3] mobilenet_v1_0.25_128    1.50 ms  accuracy 0.9000 in 12 s on worker-1"
    )
