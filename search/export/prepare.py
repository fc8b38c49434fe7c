"""Build the network to export, retrain it if asked, and pick the inputs its export is checked on.

The check inputs are real training images normalised as the proxy normalises them
(`search.proxy.train.channel_stats`, `search.proxy.train.normalise`), at the architecture's
resolution and, if it differs, at the resolution the proxy trains it at.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from search.proxy.data import Dataset, load_dataset
from search.proxy.train import ProxySchedule
from space import Arch


@contextlib.contextmanager
def torch_threads(threads: int) -> Iterator[None]:
    """Run a block with ``threads`` intra-op torch threads, restoring the old setting after."""
    import torch

    old = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(old)


@dataclass
class Prepared:
    """A built (and maybe retrained) network with the inputs to check its ONNX export on."""

    model: Any
    inputs: Any
    inputs_note: str
    test_accuracy: float | None = None
    training: dict[str, Any] | None = None
    preprocessing: str | None = None
    check_inputs: list[Any] = field(default_factory=list)


def prepare_model(
    arch: Arch,
    *,
    dataset: Dataset | None,
    schedule: ProxySchedule | None,
    epochs: float | None,
    threads: int,
    seed: int = 0,
    check_images: int = 8,
) -> Prepared:
    """Build ``arch``; with ``epochs`` retrain it on the full training split and test it.

    ``dataset`` None: check the export on random inputs, no training. ``schedule`` is the proxy
    schedule whose other settings the longer schedule keeps (default: the default one). The
    check inputs are the first training images, resized to the arch's resolution and normalised
    as in training.
    """
    import torch

    from space.model import build_model

    schedule = schedule if schedule is not None else ProxySchedule()
    if dataset is not None and (dataset.in_channels, dataset.num_classes) != (
        arch.in_channels,
        arch.num_classes,
    ):
        if epochs:
            raise ValueError(
                f"arch {arch.to_str()!r} takes {arch.in_channels} channel(s) and "
                f"{arch.num_classes} classes but data set {dataset.name!r} has "
                f"{dataset.in_channels} and {dataset.num_classes}: cannot train it on that data"
            )
        dataset = None
    torch.manual_seed(schedule.seed)
    model = build_model(arch)
    if dataset is None:
        generator = torch.Generator().manual_seed(seed)
        size = (check_images, arch.in_channels, arch.resolution, arch.resolution)
        inputs = torch.randn(size, generator=generator)
        return Prepared(model=model.eval(), inputs=inputs, inputs_note="random normal inputs")
    training = None
    test_accuracy = None
    if epochs:
        test_accuracy, training = _retrain(model, arch, dataset, schedule, epochs, threads)
    model = model.to(memory_format=torch.contiguous_format).eval()  # type: ignore[call-overload]
    return _with_check_inputs(model, arch, dataset, test_accuracy, training, check_images)


def _retrain(
    model: Any,
    arch: Arch,
    dataset: Dataset,
    schedule: ProxySchedule,
    epochs: float,
    threads: int,
) -> tuple[float, dict[str, Any]]:
    """Train on the full training split for ``epochs``; (test accuracy, what the card says)."""
    from search.proxy.train import train_model

    longer = replace(schedule, epochs=float(epochs))
    with torch_threads(threads):
        outcome = train_model(model, dataset, longer, threads=threads, eval_split="test")
    training = {
        "data set": dataset.describe(),
        "split": f"full training split ({outcome.train_images} images); "
        f"accuracy on the test split ({outcome.eval_images} images), used here for the "
        "first time",
        "epochs": longer.epochs,
        "steps": outcome.steps,
        "batch size": longer.batch_size,
        "peak lr": longer.lr,
        "schedule": "SGD Nesterov, linear warm-up, cosine decay, label smoothing "
        f"{longer.label_smoothing:g}, weight decay {longer.weight_decay:g}, "
        f"{'horizontal flips' if longer.hflip else 'no flips'}, seed {longer.seed}",
        "training resolution": f"{outcome.proxy_resolution} px (proxy resolution of "
        f"{arch.resolution})",
        "train seconds": round(outcome.train_seconds, 1),
        "threads": outcome.threads,
        "final loss": round(outcome.final_loss, 4),
    }
    return outcome.accuracy, training


def _with_check_inputs(
    model: Any,
    arch: Arch,
    dataset: Dataset,
    test_accuracy: float | None,
    training: dict[str, Any] | None,
    check_images: int,
) -> Prepared:
    """The prepared network with real, normalised check images and the preprocessing it needs."""
    from search.proxy.train import channel_stats, normalise, proxy_resolution

    resolution = proxy_resolution(arch.resolution, dataset.image_size)
    # Normalisation as the proxy does it: per-channel statistics of the whole training split.
    mean, std = channel_stats(dataset.train_images)
    first = dataset.train_images[:check_images]
    channels = ", ".join(f"{m:.4f}" for m in mean.flatten().tolist())
    spreads = ", ".join(f"{s:.4f}" for s in std.flatten().tolist())
    trained = (
        f"the weights were trained and tested at {resolution} x {resolution}"
        if training
        else f"the proxy trains this network at {resolution} x {resolution}"
    )
    preprocessing = (
        f"Images as {dataset.in_channels} x H x W float32: pixel / 255, minus mean ({channels}), "
        f"divided by std ({spreads}) per channel. The network accepts any H = W; latency refers "
        f"to {arch.resolution} x {arch.resolution} (the architecture's resolution), while "
        f"{trained} (antialiased bilinear resize of the {dataset.image_size}-pixel images)"
        + (": feed that size to reproduce the accuracy." if training else ".")
    )
    return Prepared(
        model=model,
        inputs=normalise(first, arch.resolution, mean, std).contiguous(),
        inputs_note=f"real {dataset.name} training images",
        test_accuracy=test_accuracy,
        training=training,
        preprocessing=preprocessing,
        check_inputs=(
            [normalise(first, resolution, mean, std).contiguous()]
            if resolution != arch.resolution
            else []
        ),
    )


def load_data(name: str, data_dir: str | None, *, needed: bool, seed: int) -> Dataset | None:
    """The data set; if it is missing and only wanted for check inputs, None."""
    try:
        return load_dataset(name, data_dir, seed=seed)
    except ValueError:
        if needed:
            raise
        return None
