"""Benchmark the issue's targets on this machine: table build time, validation, prediction time.

Run under the shared CPU lock::

    flock /tmp/hwnas-cpu.lock .venv/bin/python -m latency.bench.table_bench [--n 100] [--threads 1]

1. builds this machine's table for the default space from scratch (3 channels / 1000 classes),
   into ``$HWNAS_HOME/tables/local-<cpu>-<N>t.json`` (the table the search uses), and times it;
2. extends it with the Fashion-MNIST task (1 channel / 10 classes) that the search uses;
3. validates it on ``--n`` random architectures of the default space for that task (and for
   the 3 / 1000 task with ``--both-tasks``), saving CSV, PNG and JSON under ``results/latency/``;
4. times prediction per architecture (median over many architectures and repeats).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from latency import bundle_runner as runner
from latency.devices import local_device_name, local_table_path
from latency.enumerate import space_signatures
from latency.profile import build_table, calibrate_table
from latency.table import LatencyTable, write_json_atomic
from latency.validate import ValidationReport, plot_scatter, rescore, validate, write_csv
from space import Arch, SearchSpace

RESULTS = Path(__file__).resolve().parents[2] / "results" / "latency"


def _progress(label: str) -> Any:
    last = [0.0]
    start = time.monotonic()

    def report(done: int, total: int) -> None:
        now = time.monotonic()
        if now - last[0] > 15 or done == total:
            last[0] = now
            eta = (now - start) / max(done, 1) * (total - done)
            print(f"  {label}: {done}/{total} ({now - start:.0f} s, ETA {eta:.0f} s)", flush=True)

    return report


def prediction_time(table: LatencyTable, space: SearchSpace, count: int = 2000) -> dict[str, Any]:
    """Median per-architecture prediction time over ``count`` sampled architectures."""
    rng = np.random.default_rng(123)
    archs = [space.sample(rng) for _ in range(count)]
    rounds = []
    for _ in range(5):
        start = time.perf_counter()
        for arch in archs:
            table.predict(arch)
        rounds.append((time.perf_counter() - start) / count * 1e3)
    return {
        "median_ms_per_arch": statistics.median(rounds),
        "rounds_ms_per_arch": rounds,
        "archs": count,
    }


def _summary(report: ValidationReport) -> dict[str, Any]:
    return {k: v for k, v in report.to_dict().items() if k != "rows"}


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and write ``results/latency/bench.json``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", action="store_true", help="reuse an existing local table")
    parser.add_argument("--both-tasks", action="store_true", help="also validate 3ch/1000")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--calibration-n", type=int, default=20)
    parser.add_argument(
        "--table", type=Path, default=None, help="build here instead of the local table's path"
    )
    args = parser.parse_args(argv)

    space = SearchSpace.default()
    fashion = space.with_task(1, 10)
    path = args.table or local_table_path(args.threads)
    results: dict[str, Any] = {"threads": args.threads, "table_path": str(path)}
    if path.exists() and not args.keep:
        path.unlink()
    device = runner.describe_device(args.threads, name=local_device_name(args.threads))
    results["device"] = device

    sigs = space_signatures(space)
    start = time.monotonic()
    build_table(
        sigs,
        path,
        threads=args.threads,
        device=device,
        progress=_progress("default space"),
        provenance={"source": "latency/bench/table_bench.py", "space": space.to_dict()},
    )
    results["build_default_s"] = time.monotonic() - start
    results["build_default_signatures"] = len(sigs)
    print(f"default space: {len(sigs)} signatures in {results['build_default_s']:.0f} s")

    extra = space_signatures(fashion)
    start = time.monotonic()
    table = build_table(
        sigs + extra, path, threads=args.threads, progress=_progress("fashion task")
    )
    results["extend_fashion_s"] = time.monotonic() - start
    results["entries"] = len(table.entries)
    results["network_overhead_ms"] = table.network_overhead_ms
    print(
        f"extended with 1ch/10 classes: {results['extend_fashion_s']:.0f} s, "
        f"{len(table.entries)} entries"
    )

    tasks = [("fashion", fashion)] + ([("imagenet", space)] if args.both_tasks else [])
    reports: dict[str, ValidationReport] = {}
    for name, task_space in tasks:
        start = time.monotonic()
        report = validate(
            table, task_space, n=args.n, seed=args.seed, progress=_progress(f"validate {name}")
        )
        reports[name] = report
        stem = f"validation_{name}_{args.threads}t"
        write_csv(report, args.out / f"{stem}.csv")
        plot_scatter(report, args.out / f"{stem}.png")
        write_json_atomic(args.out / f"{stem}.json", report.to_dict())
        results[f"validation_{name}"] = {**_summary(report), "seconds": time.monotonic() - start}
        t, b = report.table, report.baseline
        print(
            f"validation {name} ({report.n} networks): table within ±10 % {t.within_10:.0%}, "
            f"±5 % {t.within_5:.0%}, MAPE {t.mape:.2f} %, tau {t.kendall_tau:.3f}, "
            f"rho {t.spearman_rho:.3f}; MAC baseline ±10 % {b.within_10:.0%}, "
            f"MAPE {b.mape:.2f} %, tau {b.kendall_tau:.3f}"
        )

    # Networks of another seed, kept apart from the validation set: what a calibration fitted on
    # whole networks would be fitted on (see the report in results/latency/README.md).
    held = validate(table, fashion, n=args.calibration_n, seed=args.seed + 1000)
    write_json_atomic(args.out / f"calibration_networks_{args.threads}t.json", held.to_dict())
    # The same validation networks priced by a copy calibrated on the held-out ones only.
    copy = LatencyTable.from_dict(table.to_dict())
    fit = calibrate_table(
        copy, [(Arch.parse(r.arch), r.measured_ms) for r in held.rows], seed=args.seed + 1000
    )
    results["calibration"] = fit
    for name, report in reports.items():
        again = rescore(report, copy)
        stem = f"validation_{name}_{args.threads}t_calibrated"
        write_csv(again, args.out / f"{stem}.csv")
        plot_scatter(again, args.out / f"{stem}.png")
        write_json_atomic(args.out / f"{stem}.json", again.to_dict())
        results[f"validation_{name}_calibrated"] = _summary(again)
        t = again.table
        print(
            f"calibrated on {len(held.rows)} other networks, {name}: ±10 % {t.within_10:.0%}, "
            f"±5 % {t.within_5:.0%}, MAPE {t.mape:.2f} %, tau {t.kendall_tau:.3f}"
        )

    results["prediction"] = prediction_time(table, fashion)
    print(f"prediction: {results['prediction']['median_ms_per_arch'] * 1e3:.1f} us per arch")
    write_json_atomic(args.out / f"bench_{args.threads}t.json", results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
