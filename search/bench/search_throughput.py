"""Trial throughput of ``hwnas search`` with 2 workers vs 1 worker (target: >= 1.6x).

All runs use the same settings and the same candidates: the first N trials of a new study are
the enqueued MobileNetV1 baselines, fastest first, and the target is set high enough that all of
them are trained. Three settings: 2 workers x 1 thread (the default on 2 cores), 1 worker x 1
thread (the same per-worker setting: the target's comparison) and 1 worker x 2 threads (the
default for --workers 1), each run --repeats times, interleaved; medians are reported.
Throughput is trained trials per hour over the search phase (first trial start to last trial
end, from the records), so Ray's start-up (reported separately) is not in it.

Run: flock /tmp/hwnas-cpu.lock .venv/bin/python search/bench/search_throughput.py
"""

from __future__ import annotations

import argparse
import shutil
import statistics
from pathlib import Path
from typing import Any

from search.bench._common import run_search, run_summary, write_json

# (workers, threads per worker): 2 workers x 1 thread (the default on 2 cores), 1 worker x 1
# thread (the same per-worker setting: the target's comparison) and 1 worker x 2 threads (the
# default split of the 2 cores for --workers 1).
SETTINGS = ((2, 1), (1, 1), (1, 2))


def main() -> None:
    """Run the searches (repeated, interleaved) and write results/search/throughput.json."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=12)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--target-ms", type=float, default=10000.0)
    parser.add_argument("--work", type=Path, default=Path("runs/bench-throughput"))
    parser.add_argument("--out", type=Path, default=Path("results/search/throughput.json"))
    parser.add_argument("extra", nargs="*", help="more hwnas search arguments (after --)")
    args = parser.parse_args()
    runs: dict[str, list[dict[str, Any]]] = {}
    # Repeats interleave the settings, so that a slow phase of this VM hits all of them alike.
    for repeat in range(args.repeats):
        for workers, threads in SETTINGS:
            name = f"w{workers}t{threads}"
            run_dir = args.work / f"{name}-r{repeat}"
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
                args.work / f"{name}-r{repeat}.log",
            )  # fmt: skip
            summary = run_summary(run_dir)
            summary["command_wall_s"] = round(wall, 2)
            runs.setdefault(name, []).append(summary)
            print(
                f"repeat {repeat}: {workers} worker(s) x {threads} thread(s): "
                f"{summary['trained']} trained in {summary['search_phase_s']:.1f} s "
                f"({summary['trained_per_hour']} trials/h); command {wall:.1f} s",
                flush=True,
            )
    median = {
        name: statistics.median(s["trained_per_hour"] for s in summaries)
        for name, summaries in runs.items()
    }
    two = median["w2t1"]
    results: dict[str, Any] = {
        "median_trained_per_hour": median,
        "speedup_2x1_vs_1x1": round(two / median["w1t1"], 3),
        "speedup_2x1_vs_1x2": round(two / median["w1t2"], 3),
        # 2 workers x 1 thread can beat 1 worker x 2 threads by at most 2 / (the speedup one
        # training gets from its second thread): the cap that comparison is measured against.
        "one_training_speedup_2_threads_vs_1": round(
            statistics.median(s["train_seconds_median"] for s in runs["w1t1"])
            / statistics.median(s["train_seconds_median"] for s in runs["w1t2"]),
            3,
        ),
        "target": ">= 1.6 (2 workers vs 1 worker, same settings: 1 thread per worker)",
        "protocol": (
            f"{args.trials} trials (the fastest MobileNetV1 baselines), target {args.target_ms} "
            f"ms so all train; {args.repeats} interleaved repeats per setting, medians; "
            "throughput over the search phase (first trial start to last trial end)"
        ),
        "runs": runs,
    }
    write_json(args.out, results)
    print(
        f"median throughput 2 workers x 1 thread vs 1 worker x 1 thread: "
        f"{results['speedup_2x1_vs_1x1']:.2f}x (target >= 1.6x); vs 1 worker x 2 threads: "
        f"{results['speedup_2x1_vs_1x2']:.2f}x (cap: 2 / "
        f"{results['one_training_speedup_2_threads_vs_1']:.2f}) -> {args.out}"
    )


if __name__ == "__main__":
    main()
