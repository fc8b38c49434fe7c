"""Shared helpers of the search benchmarks: run ``hwnas search`` and time it."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from search.run.info import read_run_info
from search.run.records import read_records
from search.study.loop import costs_budget

HWNAS = str(Path(sys.executable).with_name("hwnas"))
LOCK_NOTE = "run under the shared CPU lock: flock /tmp/hwnas-cpu.lock .venv/bin/python <script>"


def run_search(args: list[str], log: Path) -> float:
    """Run ``hwnas search ARGS`` (output to ``log``); returns its wall time in seconds."""
    log.parent.mkdir(parents=True, exist_ok=True)
    clock = time.perf_counter()
    with log.open("w") as handle:
        done = subprocess.run([HWNAS, "search", *args], stdout=handle, stderr=subprocess.STDOUT)
    seconds = time.perf_counter() - clock
    if done.returncode != 0:
        raise SystemExit(f"hwnas search {' '.join(args)} failed ({done.returncode}); see {log}")
    return seconds


def run_summary(run_dir: Path) -> dict[str, Any]:
    """Counts, search-phase wall time and trial throughput of a finished run."""
    records = read_records(run_dir)
    info = read_run_info(run_dir)
    trained = [r for r in records if r.state == "complete" and r.started and r.finished]
    trained = [r for r in trained if not (r.worker or "").startswith("repeat of")]
    starts = [datetime.fromisoformat(r.started) for r in trained if r.started]
    ends = [datetime.fromisoformat(r.finished) for r in trained if r.finished]
    phase = (max(ends) - min(starts)).total_seconds() if trained else 0.0
    started = datetime.fromisoformat(info.sessions[0].started)
    budget = [r for r in records if costs_budget(r) and r.finished]
    budget.sort(key=lambda r: r.finished or "")
    to_n = {
        str(n): round(
            (datetime.fromisoformat(budget[n - 1].finished or "") - started).total_seconds(), 1
        )
        for n in (10, 30, 50, 100, 150, 200)
        if len(budget) >= n
    }
    return {
        "run_dir": str(run_dir),
        "wall_s_to_n_trained_from_start": to_n,
        "trials": len(records),
        "complete": sum(r.state == "complete" for r in records),
        "trained": len(trained),
        "infeasible": sum(r.state == "infeasible" for r in records),
        "failed": sum(r.state == "failed" for r in records),
        "search_phase_s": round(phase, 2),
        "trained_per_hour": round(3600 * len(trained) / phase, 2) if phase else None,
        "train_seconds_sum": round(sum(r.train_seconds or 0.0 for r in trained), 2),
        "train_seconds_median": (
            sorted(r.train_seconds or 0.0 for r in trained)[len(trained) // 2] if trained else None
        ),
        "target_ms": info.settings.target_ms,
        "device": info.settings.device,
        "workers": info.settings.workers,
        "threads_per_worker": info.settings.threads_per_worker,
        "startup": info.sessions[-1].timings,
    }


def write_json(path: Path, data: Any) -> None:
    """Write a result file (small JSON)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1) + "\n")
