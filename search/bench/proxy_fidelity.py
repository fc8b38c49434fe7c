"""Rank fidelity of the proxy: Kendall tau between short-schedule and 5x-longer-schedule accuracy.

Trains every selected architecture (MobileNetV1 baselines plus networks sampled across the space,
stratified by MACs) on Fashion-MNIST with each short schedule ("variant") and with the reference
schedule ``ProxySchedule().longer(5)``, scores all of them on the same validation split, and
reports Kendall tau (and Spearman rho) between each variant and the reference. Each training
runs on one thread; ``--workers`` of them run side by side in a process pool.

Finished runs are appended to ``runs.jsonl`` in the output directory and reused, so an
interrupted benchmark resumes and a new variant only trains the short runs it needs.

    flock /tmp/hwnas-cpu.lock .venv/bin/python -m search.bench.proxy_fidelity
    flock /tmp/hwnas-cpu.lock .venv/bin/python -m search.bench.proxy_fidelity \\
        --variant e1=epochs:1 --variant s5k=train_subset:5000,epochs:4
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import time
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

import numpy as np

from space import Arch, SearchSpace, count_macs
from space.baselines import baseline_name, mobilenet_v1

OUT_DIR = Path("results/proxy/fidelity")
REFERENCE = "reference"
DEFAULT_VARIANT = "default"
#: The baselines included (alpha, resolution): one per resolution, from small to full width.
BASELINES = ((1.0, 224), (0.75, 192), (0.5, 160), (0.25, 128))

_WORKER: dict[str, Any] = {}


def select_archs(space: SearchSpace, sampled: int, seed: int) -> list[tuple[str, Arch]]:
    """The MobileNetV1 `BASELINES` plus ``sampled`` networks at evenly spaced MAC quantiles."""
    chosen = [
        (baseline_name(a, r), mobilenet_v1(a, r, space.num_classes, space.in_channels))
        for a, r in BASELINES
    ]
    rng = np.random.default_rng(seed)
    pool = sorted({space.sample(rng) for _ in range(4000)}, key=lambda a: (count_macs(a), str(a)))
    for i in range(sampled):
        arch = pool[int((i + 0.5) / sampled * len(pool))]
        chosen.append((f"sample{i + 1:02d}", arch))
    return chosen


def parse_variant(text: str) -> tuple[str, dict[str, Any]]:
    """``name=key:value,key:value`` -> (name, overrides of `ProxySchedule` fields)."""
    from search.proxy.train import ProxySchedule

    name, _, body = text.partition("=")
    if not name or not body:
        raise SystemExit(f"bad --variant {text!r}: expected NAME=key:value[,key:value…]")
    kinds = {f.name: f.type for f in fields(ProxySchedule)}
    overrides: dict[str, Any] = {}
    for item in body.split(","):
        key, _, value = item.partition(":")
        if key not in kinds:
            raise SystemExit(f"unknown schedule key {key!r} in --variant {text!r}")
        kind = str(kinds[key])
        overrides[key] = (
            value == "true"
            if kind == "bool"
            else int(value)
            if kind == "int"
            else float(value)
            if kind == "float"
            else value
        )
    return name, overrides


def run_key(schedule: dict[str, Any], arch: str) -> str:
    """Identity of one training run: the full schedule and the architecture."""
    return json.dumps({"schedule": schedule, "arch": arch}, sort_keys=True)


def _init_worker(threads: int) -> None:
    from search.proxy.data import load_dataset

    _WORKER["data"] = load_dataset("fashion-mnist")
    _WORKER["threads"] = threads
    _WORKER["evaluators"] = {}


def _train(schedule: dict[str, Any], arch: str) -> dict[str, Any]:
    from search.proxy.train import ProxyEvaluator, ProxySchedule, TrainingFailed

    key = json.dumps(schedule, sort_keys=True)
    evaluators = _WORKER["evaluators"]
    if key not in evaluators:
        evaluators[key] = ProxyEvaluator(
            dataset=_WORKER["data"], schedule=ProxySchedule(**schedule), threads=_WORKER["threads"]
        )
    clock = time.perf_counter()
    try:
        result = evaluators[key].evaluate(Arch.parse(arch)).to_dict()
    except TrainingFailed as err:
        result = {"accuracy": None, "failed": str(err)}
    result["wall_seconds"] = time.perf_counter() - clock
    return result


def read_runs(path: Path) -> dict[str, dict[str, Any]]:
    """Finished runs by `run_key` (a torn last line from a kill is skipped)."""
    runs: dict[str, dict[str, Any]] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            runs[run_key(record["schedule"], record["arch"])] = record
    return runs


def train_all(
    jobs: list[tuple[dict[str, Any], str, float]], runs_path: Path, workers: int, threads: int
) -> Iterator[dict[str, Any]]:
    """Train the jobs not yet in ``runs_path`` (largest first), appending each as it finishes."""
    done = read_runs(runs_path)
    todo = sorted((job for job in jobs if run_key(job[0], job[1]) not in done), key=lambda j: -j[2])
    if not todo:
        return
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, context, _init_worker, (threads,)) as pool:
        pending: dict[Future[dict[str, Any]], tuple[dict[str, Any], str]] = {}
        queue = iter(todo)
        for schedule, arch, _ in queue:
            pending[pool.submit(_train, schedule, arch)] = (schedule, arch)
            if len(pending) >= workers:
                break
        while pending:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                schedule, arch = pending.pop(future)
                record = {"schedule": schedule, "arch": arch, **future.result()}
                with runs_path.open("a") as handle:
                    handle.write(json.dumps(record, sort_keys=True) + "\n")
                yield record
                nxt = next(queue, None)
                if nxt is not None:
                    pending[pool.submit(_train, nxt[0], nxt[1])] = (nxt[0], nxt[1])


def summarise(
    archs: list[tuple[str, Arch]],
    variants: dict[str, dict[str, Any]],
    runs: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    """Per-architecture accuracies and, per variant, tau/rho against the reference and timings."""
    from scipy.stats import kendalltau, spearmanr

    rows = []
    for name, arch in archs:
        row: dict[str, Any] = {"name": name, "arch": str(arch), "macs": count_macs(arch)}
        for variant, schedule in variants.items():
            run = runs.get(run_key(schedule, str(arch)), {})
            row[f"{variant}_accuracy"] = run.get("accuracy")
            row[f"{variant}_seconds"] = run.get("wall_seconds")
            row[f"{variant}_train_seconds"] = run.get("train_seconds")
            row["proxy_resolution"] = run.get("proxy_resolution", row.get("proxy_resolution"))
        rows.append(row)
    stats: dict[str, Any] = {}
    for variant in variants:
        if variant == REFERENCE:
            continue
        pairs = [
            (r[f"{variant}_accuracy"], r[f"{REFERENCE}_accuracy"])
            for r in rows
            if r[f"{variant}_accuracy"] is not None and r[f"{REFERENCE}_accuracy"] is not None
        ]
        seconds = [r[f"{variant}_seconds"] for r in rows if r[f"{variant}_seconds"] is not None]
        entry: dict[str, Any] = {"archs": len(pairs), "schedule": variants[variant]}
        if len(pairs) >= 3:
            short, long = zip(*pairs, strict=True)
            entry["kendall_tau"] = float(kendalltau(short, long).statistic)
            entry["spearman_rho"] = float(spearmanr(short, long).statistic)
        if seconds:
            entry["seconds_median"] = float(np.median(seconds))
            entry["seconds_max"] = float(np.max(seconds))
            entry["seconds_mean"] = float(np.mean(seconds))
        stats[variant] = entry
    return {"rows": rows, "variants": stats}


def write_outputs(out: Path, summary: dict[str, Any], settings: dict[str, Any]) -> None:
    """summary.json, table.csv and one scatter plot per variant (short vs reference accuracy)."""
    import csv

    data = {"settings": settings, **summary}
    (out / "summary.json").write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    rows = summary["rows"]
    with (out / "table.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    for variant, entry in summary["variants"].items():
        if "kendall_tau" not in entry:
            continue
        points = [
            (100 * r[f"{variant}_accuracy"], 100 * r[f"{REFERENCE}_accuracy"], r["name"])
            for r in rows
            if r[f"{variant}_accuracy"] is not None and r[f"{REFERENCE}_accuracy"] is not None
        ]
        fig, ax = plt.subplots(figsize=(5, 4), dpi=100)
        for x, y, name in points:
            baseline = not name.startswith("sample")
            ax.scatter(x, y, c="tab:red" if baseline else "tab:blue", s=18)
            ax.annotate(name, (x, y), fontsize=6, xytext=(2, 2), textcoords="offset points")
        ax.set_xlabel(f"short schedule '{variant}' val accuracy (%)")
        ax.set_ylabel("5x longer schedule val accuracy (%)")
        ax.set_title(
            f"Fashion-MNIST proxy rank fidelity: Kendall tau = {entry['kendall_tau']:.2f} "
            f"({entry['archs']} archs)",
            fontsize=8,
        )
        fig.tight_layout()
        fig.savefig(out / f"scatter_{variant}.png")
        plt.close(fig)


def main() -> None:
    """Parse arguments, train what is missing, write the summary."""
    from search.proxy.train import ProxySchedule

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    parser.add_argument("--sampled", type=int, default=10, help="sampled archs besides baselines")
    parser.add_argument("--seed", type=int, default=0, help="seed of the architecture sample")
    parser.add_argument("--factor", type=float, default=5.0, help="reference = default x factor")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1, help="torch threads per training")
    parser.add_argument("--variant", action="append", default=[], help="NAME=key:value,…")
    parser.add_argument(
        "--base", default="", help="key:value,… overrides of ProxySchedule() for default/reference"
    )
    parser.add_argument(
        "--summary-only", action="store_true", help="train nothing; summarise finished runs"
    )
    args = parser.parse_args()

    base = ProxySchedule(**(parse_variant(f"base={args.base}")[1] if args.base else {}))
    variants = {
        DEFAULT_VARIANT: asdict(base),
        REFERENCE: asdict(base.longer(args.factor)),
    }
    for text in args.variant:
        name, overrides = parse_variant(text)
        variants[name] = asdict(ProxySchedule(**{**asdict(base), **overrides}))
    space = SearchSpace.default().with_task(1, 10)
    archs = select_archs(space, args.sampled, args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    runs_path = args.out / "runs.jsonl"
    jobs = [
        (schedule, str(arch), count_macs(arch) * schedule["epochs"] * schedule["train_subset"])
        for schedule in variants.values()
        for _, arch in archs
    ]
    clock = time.perf_counter()
    for record in (
        [] if args.summary_only else train_all(jobs, runs_path, args.workers, args.threads)
    ):
        accuracy = record["accuracy"]
        print(
            f"{time.perf_counter() - clock:7.0f}s  epochs {record['schedule']['epochs']:<5g} "
            f"{'failed' if accuracy is None else f'{100 * accuracy:.2f} %'}  "
            f"{record['wall_seconds']:.1f}s  {record['arch']}",
            flush=True,
        )
    settings = {
        "data": "fashion-mnist, val split 10 % (seed 0) of the training set",
        "threads_per_training": args.threads,
        "parallel_trainings": args.workers,
        "reference": f"default schedule x {args.factor:g} epochs",
        "arch_seed": args.seed,
        "cpu": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "command": "flock /tmp/hwnas-cpu.lock .venv/bin/python -m search.bench.proxy_fidelity "
        + (f"--base {args.base} " if args.base else "")
        + " ".join(f"--variant {v}" for v in args.variant),
    }
    summary = summarise(archs, variants, read_runs(runs_path))
    write_outputs(args.out, summary, settings)
    for variant, entry in summary["variants"].items():
        print(
            f"{variant:>12}: tau {entry.get('kendall_tau', float('nan')):.3f}  "
            f"rho {entry.get('spearman_rho', float('nan')):.3f}  "
            f"median {entry.get('seconds_median', float('nan')):.1f}s  "
            f"max {entry.get('seconds_max', float('nan')):.1f}s per candidate "
            f"({args.threads} thread, {args.workers} in parallel)"
        )


if __name__ == "__main__":
    main()
