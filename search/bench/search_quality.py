"""Search quality: the default sampler (TPE) vs random sampling, same trials and target, 3 seeds.

Reads the TPE run (default: the example run made by ``search_default.py``, seed 0), runs TPE with
the same settings at the other seeds and random sampling at every seed (each run directory is
resumed if it is not complete yet), and reports per seed: the hypervolume of the (latency,
accuracy) front with reference point (target ms, chance accuracy), TPE's ratio to random at the
same training budget and at the same number of Optuna trials, and their medians over seeds; and
per enqueued MobileNetV1 baseline the fastest searched network at least as accurate (speedup)
and the most accurate no-slower one (accuracy gain). Targets: hypervolume of TPE >= random;
median speedup >= 1.3x.

Run: flock /tmp/hwnas-cpu.lock .venv/bin/python search/bench/search_quality.py
"""

from __future__ import annotations

import argparse
import json
import statistics
from dataclasses import asdict
from pathlib import Path
from typing import Any

from search.analysis.quality import (
    SearchQuality,
    comparison_table,
    quality_table,
    search_quality,
)
from search.bench._common import run_search, run_summary, write_json
from search.run.info import read_run_info
from search.run.records import read_records


def to_toml(config: dict[str, dict[str, Any]]) -> str:
    """The run's ``[space]`` and ``[proxy]`` settings as a --config file (flat tables only)."""
    lines = []
    for section, values in config.items():
        if section == "proxy" and "fake_seconds" in values:
            continue  # the test hook's pseudo-schedule is not a config
        lines.append(f"[{section}]")
        lines += [f"{key} = {json.dumps(value)}" for key, value in values.items()]
    return "\n".join(lines) + "\n"


def run_like(
    settings: dict[str, Any], *, sampler: str, seed: int, run_dir: Path, table: str, log: Path
) -> None:
    """Run (or resume) ``hwnas search`` with a reference run's settings but ``sampler``/``seed``."""
    command = [
        "--trials", str(settings["trials"]),
        "--workers", str(settings["workers"]),
        "--seed", str(seed),
        "--target-ms", repr(settings["target_ms"]),
        "--dataset", settings["dataset"],
        "--mode", settings["mode"],
        "--table", table,
        "--sampler", sampler,
        "--run-dir", str(run_dir),
    ]  # fmt: skip
    config = run_dir.parent / f"{run_dir.name}.config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(to_toml(settings["config"]))
    command += ["--config", str(config)]
    if settings.get("data_dir"):
        command += ["--data-dir", settings["data_dir"]]
    run_search(command, log)


def finished(run_dir: Path, trials: int) -> bool:
    """Whether ``run_dir`` holds a run that trained its ``trials`` searched networks."""
    if not (run_dir / "run.json").exists():
        return False
    return run_summary(run_dir)["trained"] >= trials


def compare(
    tpe_run: Path, random_run: Path, ref_latency: float, ref_accuracy: float
) -> dict[str, SearchQuality]:
    """TPE, random at the same training budget, and random at as many Optuna trials as TPE."""
    records = {"tpe": read_records(tpe_run), "random": read_records(random_run)}
    # Two readings of "the same number of trials": the same training budget (both runs train
    # the same number of networks; infeasible candidates are free) and the same number of
    # Optuna trials (random's first trials, as many as TPE asked, infeasible ones included).
    records["random, same asks"] = records["random"][: len(records["tpe"])]
    return {
        name: search_quality(recs, ref_latency_ms=ref_latency, ref_accuracy=ref_accuracy)
        for name, recs in records.items()
    }


# A benchmark script's main, long by its argument parsing and its result table; read in order.
def main() -> None:
    """Compare the samplers over seeds and write results/search/quality.{json,md}."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tpe-run", type=Path, default=Path("results/example-run"))
    parser.add_argument("--random-run", type=Path, default=Path("runs/bench-random"))
    parser.add_argument(
        "--seeds", type=int, nargs="*", default=[1, 2],
        help="more seeds, each with its own TPE and random run under --work",
    )  # fmt: skip
    parser.add_argument("--work", type=Path, default=Path("runs/bench-quality"))
    parser.add_argument(
        "--table", default=None,
        help="latency table of the new runs (default: the TPE run's); TPE and random of one "
        "seed always share it",
    )  # fmt: skip
    parser.add_argument("--out", type=Path, default=Path("results/search/quality.json"))
    args = parser.parse_args()
    info = read_run_info(args.tpe_run)
    settings = asdict(info.settings)
    n_trials = settings["trials"]
    table = args.table or settings["table"]
    base_seed = int(settings["seed"])
    runs = {base_seed: (args.tpe_run, args.random_run)}
    runs.update({s: (args.work / f"tpe-s{s}", args.work / f"random-s{s}") for s in args.seeds})
    for seed, (tpe_run, random_run) in runs.items():
        for sampler, run_dir in (("tpe", tpe_run), ("random", random_run)):
            if not finished(run_dir, n_trials):
                print(f"seed {seed}: running {sampler} in {run_dir}", flush=True)
                log = args.out.with_name(f"{sampler}_s{seed}_search.log")
                run_like(
                    settings, sampler=sampler, seed=seed, run_dir=run_dir, table=table, log=log
                )
    ref_accuracy = 1.0 / info.dataset.num_classes
    ref_latency = float(settings["target_ms"])
    by_seed = {seed: compare(*dirs, ref_latency, ref_accuracy) for seed, dirs in runs.items()}
    ratios = {
        seed: {
            "vs_random_same_budget": q["tpe"].hypervolume / q["random"].hypervolume,
            "vs_random_same_asks": q["tpe"].hypervolume / q["random, same asks"].hypervolume,
        }
        for seed, q in by_seed.items()
    }
    median = {
        key: statistics.median(r[key] for r in ratios.values())
        for key in ("vs_random_same_budget", "vs_random_same_asks")
    }
    result = {
        "reference_point": {"latency_ms": ref_latency, "accuracy": ref_accuracy},
        "table": table,
        "seeds": {
            str(seed): {
                "runs": {"tpe": str(runs[seed][0]), "random": str(runs[seed][1])},
                "quality": {name: q.to_dict() for name, q in quality.items()},
                "hypervolume_ratio": ratios[seed],
            }
            for seed, quality in by_seed.items()
        },
        "median_hypervolume_ratio": median,
        "targets": {"hypervolume": "tpe >= random", "median_speedup": ">= 1.3x"},
    }
    write_json(args.out, result)
    text = [
        "# Search quality: TPE (with the latency constraint) vs random sampling",
        "",
        f"Same settings for every run: {n_trials} trained networks, target {ref_latency:g} ms "
        f"on {settings['device']}, {settings['workers']} workers; seed {base_seed} ran on the "
        f"table `{settings['table']}` as it was then, the other seeds on `{table}`; seeds "
        f"{', '.join(str(s) for s in runs)}. Hypervolume reference point: ({ref_latency:g} ms, "
        f"accuracy {ref_accuracy:g} = chance), area in ms x accuracy. 'trials' counts Optuna "
        "trials; the budget is trained networks (infeasible candidates are free), so 'random' "
        "trained as many networks as 'tpe', and 'random, same asks' is its first trials, as "
        "many as tpe asked.",
        "",
        "| seed | TPE / random, same training budget | TPE / random, same Optuna trials |",
        "|---|---|---|",
    ]
    text += [
        f"| {seed} | {r['vs_random_same_budget']:.4f} | {r['vs_random_same_asks']:.4f} |"
        for seed, r in ratios.items()
    ]
    text += [
        f"| median | {median['vs_random_same_budget']:.4f} | {median['vs_random_same_asks']:.4f} |",
        "",
    ]
    for seed, quality in by_seed.items():
        text += [f"## seed {seed}", "", quality_table(quality), ""]
        for name, q in quality.items():
            if name == "random, same asks":
                continue
            text += [f"### seed {seed}, {name}: each complete baseline vs the searched networks",
                     "", comparison_table(q), ""]  # fmt: skip
    md = args.out.with_suffix(".md")
    md.write_text("\n".join(text))
    print("\n".join(text))
    print(f"-> {args.out}, {md}")


if __name__ == "__main__":
    main()
