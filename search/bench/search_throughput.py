"""Trial throughput of ``hwnas search`` with 2 workers vs 1 worker (target: >= 1.6x).

All runs use the same settings and the same candidates: the first N trials of a new study are
the enqueued MobileNetV1 baselines, fastest first, and the target is set high enough that all of
them are trained. Three runs: 2 workers x 1 thread (the default on 2 cores), 1 worker x 2 threads
(the default for --workers 1) and 1 worker x 1 thread (the same per-worker setting as the
2-worker run).
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
    # (workers, threads per worker): the default split of the 2 cores for 1 and for 2 workers,
    # and 1 worker at 1 thread (the same per-worker setting as the 2-worker run).
    for workers, threads in ((1, 2), (2, 1), (1, 1)):
        name = f"w{workers}t{threads}"
        run_dir = args.work / name
        shutil.rmtree(run_dir, ignore_errors=True)
        wall = run_search(
            [
                "--trials", str(args.trials),
                "--workers", str(workers),
                "--threads", str(threads),
                "--target-ms", str(args.target_ms),
                "--run-dir", str(run_dir),
                *args.extra,
            ],
            args.work / f"{name}.log",
        )  # fmt: skip
        summary = run_summary(run_dir)
        summary["command_wall_s"] = round(wall, 2)
        results[name] = summary
        print(
            f"{workers} worker(s) x {threads} thread(s): "
            f"{summary['trained']} trained in {summary['search_phase_s']:.1f} s "
            f"({summary['trained_per_hour']} trials/h); command {wall:.1f} s",
            flush=True,
        )
    two = results["w2t1"]["trained_per_hour"]
    results["speedup_2x1_vs_1x2"] = round(two / results["w1t2"]["trained_per_hour"], 3)
    results["speedup_2x1_vs_1x1"] = round(two / results["w1t1"]["trained_per_hour"], 3)
    results["target"] = ">= 1.6"
    results["protocol"] = (
        f"{args.trials} trials (the fastest MobileNetV1 baselines), target {args.target_ms} ms so "
        "all train; one run each; 2 workers x 1 thread vs 1 worker x 2 threads (the default "
        "split for 1 worker) and vs 1 worker x 1 thread"
    )
    write_json(args.out, results)
    print(
        f"throughput 2 workers x 1 thread vs 1 worker x 2 threads: "
        f"{results['speedup_2x1_vs_1x2']:.2f}x; vs 1 worker x 1 thread: "
        f"{results['speedup_2x1_vs_1x1']:.2f}x (target >= 1.6x) -> {args.out}"
    )


if __name__ == "__main__":
    main()
