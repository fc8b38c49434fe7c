"""Search quality: the default sampler (TPE) vs random sampling, same trials, seed and target.

Reads the TPE run (default: the example run made by ``search_default.py``), runs the random
sampler with the same settings if its run directory is not complete yet, and reports for both:
hypervolume of the (latency, accuracy) front with reference point (target ms, chance accuracy),
and per enqueued MobileNetV1 baseline the fastest searched network at least as accurate
(speedup) and the most accurate no-slower one (accuracy gain). Targets: hypervolume of TPE >=
random; median speedup >= 1.3x.

Run: flock /tmp/hwnas-cpu.lock .venv/bin/python search/bench/search_quality.py
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from search.bench._common import run_search, run_summary, write_json
from search.quality import comparison_table, quality_table, search_quality
from search.records import read_records, read_run_info


def to_toml(config: dict[str, dict[str, Any]]) -> str:
    """The run's ``[space]`` and ``[proxy]`` settings as a --config file (flat tables only)."""
    lines = []
    for section, values in config.items():
        if section == "proxy" and "fake_seconds" in values:
            continue  # the test hook's pseudo-schedule is not a config
        lines.append(f"[{section}]")
        lines += [f"{key} = {json.dumps(value)}" for key, value in values.items()]
    return "\n".join(lines) + "\n"


def main() -> None:
    """Compare the samplers and write results/search/quality.{json,md}."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tpe-run", type=Path, default=Path("results/example-run"))
    parser.add_argument("--random-run", type=Path, default=Path("runs/bench-random"))
    parser.add_argument("--out", type=Path, default=Path("results/search/quality.json"))
    args = parser.parse_args()
    info = read_run_info(args.tpe_run)
    settings = info["settings"]
    n_trials = settings["trials"]
    if len(read_records(args.random_run)) < n_trials:
        same = [
            "--trials", str(n_trials),
            "--workers", str(settings["workers"]),
            "--seed", str(settings["seed"]),
            "--target-ms", repr(settings["target_ms"]),
            "--dataset", settings["dataset"],
            "--mode", settings["mode"],
            "--table", settings["table"],
            "--sampler", "random",
            "--run-dir", str(args.random_run),
        ]  # fmt: skip
        config = args.random_run.parent / f"{args.random_run.name}.config.toml"
        config.parent.mkdir(parents=True, exist_ok=True)
        config.write_text(to_toml(settings["config"]))
        same += ["--config", str(config)]
        if settings.get("data_dir"):
            same += ["--data-dir", settings["data_dir"]]
        run_search(same, args.out.with_name("random_search.log"))
    ref_accuracy = 1.0 / info["dataset"]["num_classes"]
    ref_latency = float(settings["target_ms"])
    runs = {"tpe": args.tpe_run, "random": args.random_run}
    records = {name: read_records(d) for name, d in runs.items()}
    # Two readings of "the same number of trials": the same training budget (both runs train
    # n_trials networks; infeasible candidates are free) and the same number of Optuna trials
    # (random's first trials, as many as TPE asked, infeasible ones included).
    records["random, same asks"] = records["random"][: len(records["tpe"])]
    quality = {
        name: search_quality(recs, ref_latency_ms=ref_latency, ref_accuracy=ref_accuracy)
        for name, recs in records.items()
    }
    result = {
        "reference_point": {"latency_ms": ref_latency, "accuracy": ref_accuracy},
        "runs": {
            name: {
                "summary": run_summary(runs[name]) if name in runs else None,
                "quality": q.to_dict(),
            }
            for name, q in quality.items()
        },
        "hypervolume_ratio_tpe_vs_random": (
            quality["tpe"].hypervolume / quality["random"].hypervolume
            if quality["random"].hypervolume
            else None
        ),
        "hypervolume_ratio_tpe_vs_random_same_asks": (
            quality["tpe"].hypervolume / quality["random, same asks"].hypervolume
            if quality["random, same asks"].hypervolume
            else None
        ),
        "targets": {"hypervolume": "tpe >= random", "median_speedup": ">= 1.3x"},
    }
    write_json(args.out, result)
    text = [
        "# Search quality: TPE (with the latency constraint) vs random sampling",
        "",
        f"Same settings: {n_trials} trials, seed {settings['seed']}, target {ref_latency:g} ms on "
        f"{settings['device']}, {settings['workers']} workers. Hypervolume reference point: "
        f"({ref_latency:g} ms, accuracy {ref_accuracy:g} = chance), area in ms x accuracy. "
        "'trials' counts Optuna trials; the budget is trained networks (infeasible candidates "
        "are free), so 'random' trained as many networks as 'tpe', and 'random, same asks' is "
        "its first trials, as many as tpe asked.",
        "",
        quality_table(quality),
        "",
    ]
    for name, q in quality.items():
        if name == "random, same asks":
            continue
        text += [f"## {name}: each complete baseline vs the searched networks", "",
                 comparison_table(q), ""]  # fmt: skip
    md = args.out.with_suffix(".md")
    md.write_text("\n".join(text))
    print("\n".join(text))
    print(f"-> {args.out}, {md}")


if __name__ == "__main__":
    main()
