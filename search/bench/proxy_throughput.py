"""Proxy training throughput (images/s): the optimised loop vs a plain NCHW float32 PyTorch loop.

Both train the same networks (same builder, same seeded weights, batch 128, SGD with Nesterov
momentum) on Fashion-MNIST already resized to the candidate's proxy resolution, on the same
thread count, side by side in one process (alternating, so drift on this shared machine hits
both). What differs is exactly what ``search.proxy.train`` does differently:

* optimised (``search.proxy.train._fit``, what the search runs): images kept as normalised float32
  channels_last tensors, model in channels_last, one ``index_select`` per batch, lr set in place,
  ``zero_grad(set_to_none=True)``, decay-free BN/bias groups;
* baseline: the usual first loop one writes without a DataLoader: images kept as a uint8 NCHW
  tensor, each batch gathered, converted to float and normalised out of place, model in the
  default contiguous NCHW format, ``torch.optim.lr_scheduler.CosineAnnealingLR``,
  ``zero_grad()``. Neither resizes per batch, both read the loss each step.

Per (network, threads): one warm-up run each, then ``--repeats`` alternating timed runs of
``--steps`` steps; the figure is the median images/s, and the ratio is of the medians.

    flock /tmp/hwnas-cpu.lock .venv/bin/python -m search.bench.proxy_throughput
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from space import Arch, SearchSpace, count_macs
from space.baselines import baseline_name, mobilenet_v1

OUT_DIR = Path("results/proxy")
#: One network per size class: three MobileNetV1 baselines and two sampled members of the space.
SAMPLED = (
    "stem_r128_i1_c16:ds_r1_k3_s1_c48:ds_r2_k7_s2_c128:ds_r2_k3_s2_c160:ds_r4_k7_s2_c256:"
    "ds_r1_k7_s2_c768:head_n10",
    "stem_r192_i1_c16:ds_r1_k5_s1_c64:ds_r2_k3_s2_c96:ds_r1_k5_s2_c96:ds_r6_k7_s2_c320:"
    "ds_r2_k7_s2_c640:head_n10",
)


def networks() -> list[tuple[str, Arch]]:
    """The benchmarked networks, smallest first."""
    chosen = [
        (baseline_name(a, r), mobilenet_v1(a, r, 10, 1))
        for a, r in ((0.25, 128), (0.5, 160), (1.0, 224))
    ]
    chosen += [(f"sampled{i + 1}", Arch.parse(text)) for i, text in enumerate(SAMPLED)]
    space = SearchSpace.default().with_task(1, 10)
    for name, arch in chosen:
        if not space.contains(arch):
            raise SystemExit(f"{name} {arch} is not in the default space")
    return sorted(chosen, key=lambda item: count_macs(item[1]))


def baseline_fit(
    model: Any, images: Any, labels: Any, mean: Any, std: Any, steps: int, batch: int, lr: float
) -> float:
    """The plain loop (see the module docstring); returns seconds for ``steps`` steps."""
    import torch
    import torch.nn.functional as F

    model.train()
    optimizer = torch.optim.SGD(
        model.parameters(), lr=lr, momentum=0.9, nesterov=True, weight_decay=5e-5
    )
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps)
    generator = torch.Generator().manual_seed(0)
    order = torch.randperm(len(labels), generator=generator)
    clock = time.perf_counter()
    for step in range(steps):
        index = order[step * batch : (step + 1) * batch]
        x = images[index].float() / 255.0
        x = (x - mean) / std
        loss = F.cross_entropy(model(x), labels[index])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
        loss.item()
    return time.perf_counter() - clock


def measure(
    arch: Arch, data: Any, threads: int, steps: int, repeats: int, batch: int
) -> dict[str, Any]:
    """Median images/s of both loops on ``arch`` at ``threads`` threads."""
    import torch
    import torch.nn.functional as F

    from search.proxy.train import (
        ProxySchedule,
        _fit,
        _prepare,
        _set_threads,
        _Split,
        _Tensors,
        proxy_resolution,
    )
    from space.model import build_model

    _set_threads(threads)
    resolution = proxy_resolution(arch.resolution, data.image_size)
    count = batch * steps
    split = _Split(
        train_images=data.train_images[:count],
        train_labels=data.train_labels[:count],
        eval_images=data.train_images[:1],
        eval_labels=data.train_labels[:1],
        eval_split="val",
    )
    prepared = _prepare(split, resolution).train
    raw = torch.from_numpy(data.train_images[:count]).float()
    raw = F.interpolate(raw, size=(resolution, resolution), mode="bilinear", antialias=True)
    uint8 = raw.round().clamp(0, 255).to(torch.uint8).contiguous()
    labels = torch.from_numpy(data.train_labels[:count]).long()
    mean = torch.tensor(data.train_images[:count].mean() / 255.0)
    std = torch.tensor(data.train_images[:count].std() / 255.0)
    schedule = ProxySchedule(epochs=1.0, train_subset=count, batch_size=batch, lr=0.05)

    def optimised() -> float:
        torch.manual_seed(0)
        model = build_model(arch)
        sub = _Tensors(prepared.images, prepared.labels)
        return _fit(model, sub, schedule, arch.num_classes, None)[0]

    def baseline() -> float:
        torch.manual_seed(0)
        model = build_model(arch)
        return baseline_fit(model, uint8, labels, mean, std, steps, batch, 0.05)

    optimised()
    baseline()  # warm-up: first-touch allocations and oneDNN primitive creation
    times: dict[str, list[float]] = {"optimised": [], "baseline": []}
    for _ in range(repeats):
        times["optimised"].append(optimised())
        times["baseline"].append(baseline())
    rates = {k: [count / s for s in v] for k, v in times.items()}
    opt = statistics.median(rates["optimised"])
    base = statistics.median(rates["baseline"])
    return {
        "threads": threads,
        "proxy_resolution": resolution,
        "optimised_images_per_second": opt,
        "baseline_images_per_second": base,
        "ratio": opt / base,
        "optimised_runs": rates["optimised"],
        "baseline_runs": rates["baseline"],
    }


def main() -> None:
    """Measure every network at every thread count; write JSON and a Markdown table."""
    import torch

    from search.proxy.data import load_dataset
    from search.proxy.train import ProxySchedule

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--steps", type=int, default=15, help="timed steps per run")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per loop")
    parser.add_argument("--batch", type=int, default=ProxySchedule().batch_size)
    args = parser.parse_args()

    data = load_dataset("fashion-mnist")
    rows: list[dict[str, Any]] = []
    for threads in args.threads:
        for name, arch in networks():
            row: dict[str, Any] = {"name": name, "arch": str(arch), "macs": count_macs(arch)}
            row.update(measure(arch, data, threads, args.steps, args.repeats, args.batch))
            rows.append(row)
            print(
                f"{threads} thread(s) {name:>22} @{row['proxy_resolution']}px: optimised "
                f"{row['optimised_images_per_second']:7.0f} img/s, baseline "
                f"{row['baseline_images_per_second']:7.0f} img/s, ratio {row['ratio']:.2f}x",
                flush=True,
            )
    summary = {
        str(t): {
            "median_ratio": statistics.median(r["ratio"] for r in rows if r["threads"] == t),
            "geomean_ratio": float(
                np.exp(np.mean([np.log(r["ratio"]) for r in rows if r["threads"] == t]))
            ),
            "min_ratio": min(r["ratio"] for r in rows if r["threads"] == t),
        }
        for t in args.threads
    }
    settings = {
        "protocol": f"batch {args.batch}, {args.steps} timed steps per run, {args.repeats} "
        "alternating runs per loop after one warm-up each; median images/s",
        "threads": args.threads,
        "torch": torch.__version__,
        "cpu": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "schedule": asdict(ProxySchedule()),
        "command": "flock /tmp/hwnas-cpu.lock .venv/bin/python -m search.bench.proxy_throughput",
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "throughput.json").write_text(
        json.dumps({"settings": settings, "summary": summary, "rows": rows}, indent=2) + "\n"
    )
    lines = [
        "| threads | network | proxy px | MMACs (real res) | optimised img/s | baseline img/s "
        "| ratio |",
        "|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r['threads']} | {r['name']} | {r['proxy_resolution']} | {r['macs'] / 1e6:.0f} "
        f"| {r['optimised_images_per_second']:.0f} | {r['baseline_images_per_second']:.0f} "
        f"| {r['ratio']:.2f}x |"
        for r in rows
    ]
    for t, s in summary.items():
        lines.append(
            f"\n{t} thread(s): median ratio {s['median_ratio']:.2f}x, geometric mean "
            f"{s['geomean_ratio']:.2f}x, min {s['min_ratio']:.2f}x"
        )
    (args.out / "throughput.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines[-len(summary) :]))


if __name__ == "__main__":
    main()
