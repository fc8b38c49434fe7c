"""Trial throughput of ``hwnas search`` with 2 workers vs 1 worker (target: >= 1.6x).

Both runs use the same settings and the same candidates: the first N trials of a new study are
the enqueued MobileNetV1 baselines, fastest first, and the target is set high enough that all of
them are trained. Each worker gets cores // workers torch threads (1 worker x 2 threads vs
2 workers x 1 thread on this 2-core machine), which is what ``hwnas search`` does by default.
Throughput is trained trials per hour over the search phase (first trial start to last trial
end, from the records), so Ray's start-up (reported separately) is not in it.

Run: flock /tmp/hwnas-cpu.lock .venv/bin/python search/bench/search_throughput.py
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path
from typing import Any

from search.bench._common import run_search, run_summary, write_json


def main() -> None:
    """Run both searches and write results/search/throughput.json."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=8)
    parser.add_argument("--target-ms", type=float, default=10000.0)
    parser.add_argument("--work", type=Path, default=Path("runs/bench-throughput"))
    parser.add_argument("--out", type=Path, default=Path("results/search/throughput.json"))
    parser.add_argument("extra", nargs="*", help="more hwnas search arguments (after --)")
    args = parser.parse_args()
    results: dict[str, Any] = {}
    for workers in (1, 2):
        run_dir = args.work / f"w{workers}"
        shutil.rmtree(run_dir, ignore_errors=True)
        wall = run_search(
            [
                "--trials", str(args.trials),
                "--workers", str(workers),
                "--target-ms", str(args.target_ms),
                "--run-dir", str(run_dir),
                *args.extra,
            ],
            args.work / f"w{workers}.log",
        )  # fmt: skip
        summary = run_summary(run_dir)
        summary["command_wall_s"] = round(wall, 2)
        results[f"workers_{workers}"] = summary
        print(
            f"{workers} worker(s) x {summary['threads_per_worker']} thread(s): "
            f"{summary['trained']} trained in {summary['search_phase_s']:.1f} s "
            f"({summary['trained_per_hour']} trials/h); command {wall:.1f} s",
            flush=True,
        )
    one, two = results["workers_1"], results["workers_2"]
    ratio = two["trained_per_hour"] / one["trained_per_hour"]
    results["speedup_2_vs_1"] = round(ratio, 3)
    results["target"] = ">= 1.6"
    results["protocol"] = (
        f"{args.trials} trials (the fastest MobileNetV1 baselines), target {args.target_ms} ms so "
        "all train; one run each; threads per worker = 2 cores // workers"
    )
    write_json(args.out, results)
    print(f"throughput 2 vs 1 worker: {ratio:.2f}x (target >= 1.6x) -> {args.out}")


if __name__ == "__main__":
    main()
