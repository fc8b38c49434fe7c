"""Proxy accuracy: train a candidate briefly on a fixed training subset, score it on a val split.

`ProxyEvaluator.evaluate(arch)` is the search's accuracy seam (the driver's ``Evaluator``): it
builds ``space.build_model(arch)`` for the data set's channels and classes, trains it with a
`ProxySchedule` at `proxy_resolution` and returns an `EvalResult` with the accuracy on the
validation part of `search.proxy.data.train_val_split` (never the test set). `train_model` is the
same loop for a model the caller built, also used by export to retrain a chosen network on the
full training split and report test accuracy.

Why the loop looks the way it does (figures in ``results/proxy/``, script
``search/bench/proxy_throughput.py``): on this CPU channels_last is 1.3-2x faster than NCHW for
these depthwise-separable networks; bf16 autocast is slower (depthwise convolutions do not use
AMX) and ``torch.compile`` costs about 40 s per architecture before its first step, more than a
whole proxy trial, so neither is used. Images are resized and normalised once per proxy
resolution and kept in memory as float32 channels_last tensors; a step is one gather, one
forward/backward and one fused SGD update, with no DataLoader and no per-sample Python.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from space.arch import Arch

if TYPE_CHECKING:
    import torch
    from torch import nn

    from search.proxy.data import Dataset

EvalSplit = Literal["val", "test"]
OPTIMIZERS: tuple[str, ...] = ("sgd", "adamw")
EVAL_SPLITS: tuple[str, ...] = ("val", "test")

#: The candidate resolution that trains at the base proxy size (ImageNet's usual 224).
REFERENCE_RESOLUTION = 224
#: Proxy resolutions are multiples of this (and at least `MIN_PROXY_RESOLUTION`).
RESOLUTION_STEP = 4
MIN_PROXY_RESOLUTION = 8
#: A training loss above this many times chance level (ln classes) counts as divergence.
DIVERGENCE_FACTOR = 20.0
#: Images per forward pass when scoring (no gradients, so larger batches are cheap).
EVAL_BATCH = 1000
#: Training images used to re-estimate BN statistics after training.
BN_IMAGES = 2000


def proxy_base_size(image_size: int) -> int:
    """Proxy side for a 224-pixel candidate: the data's side rounded up to a multiple of 8."""
    _check_positive_int("image_size", image_size)
    return 8 * math.ceil(image_size / 8)


def proxy_resolution(arch_resolution: int, image_size: int) -> int:
    """Side length the proxy trains a candidate of ``arch_resolution`` at, on ``image_size`` data.

    Resolution is part of the architecture, so the proxy keeps its ratio to 224: the side is
    ``arch_resolution / 224 * proxy_base_size(image_size)`` rounded to the nearest multiple of 4
    (at least 8). For Fashion-MNIST (28 px, base 32) the space's resolutions map to
    128 -> 20, 160 -> 24, 192 -> 28, 224 -> 32: the smaller candidates see downsampled images,
    as they would at their real resolution, and cost proportionally less to train.
    """
    _check_positive_int("arch_resolution", arch_resolution)
    scaled = arch_resolution * proxy_base_size(image_size) / REFERENCE_RESOLUTION
    steps = math.floor(scaled / RESOLUTION_STEP + 0.5)
    return max(MIN_PROXY_RESOLUTION, RESOLUTION_STEP * steps)


@dataclass(frozen=True)
class ProxySchedule:
    """A short training schedule: SGD with Nesterov momentum, linear warm-up, cosine decay to 0.

    The defaults are the search's proxy: 2 epochs over 10 000 Fashion-MNIST images (156 steps).
    Against the same schedule with 5x the epochs, on 14 networks spread over the space, Kendall
    tau is 0.60 (1 epoch: 0.38; AdamW: 0.55) at a median of 20 s (max 46 s, MobileNetV1 1.0-224)
    per candidate on one thread with two trainings side by side (``results/proxy/README.md``).
    ``epochs`` counts passes over ``train_subset`` images (fewer if the training split is
    smaller); the lr is the peak per ``batch_size`` batch; weight decay skips BN and biases.
    """

    epochs: float = 2.0
    train_subset: int = 10000
    batch_size: int = 128
    lr: float = 0.1
    weight_decay: float = 5e-5
    label_smoothing: float = 0.0
    seed: int = 0
    momentum: float = 0.9
    warmup_fraction: float = 0.1
    hflip: bool = False
    optimizer: str = "sgd"

    def __post_init__(self) -> None:
        _check_positive_number("epochs", self.epochs)
        _check_positive_int("train_subset", self.train_subset)
        _check_positive_int("batch_size", self.batch_size)
        _check_positive_number("lr", self.lr)
        for name, low, high in (
            ("weight_decay", 0.0, 1.0),
            ("label_smoothing", 0.0, 0.999),
            ("momentum", 0.0, 0.999),
            ("warmup_fraction", 0.0, 0.999),
        ):
            value = getattr(self, name)
            if not _is_number(value) or not low <= value <= high:
                raise ValueError(f"{name} must be a number in [{low:g}, {high:g}], got {value!r}")
        if not isinstance(self.seed, int) or isinstance(self.seed, bool) or self.seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {self.seed!r}")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer {self.optimizer!r} is not one of {', '.join(OPTIMIZERS)}")
        if not isinstance(self.hflip, bool):
            raise ValueError(f"hflip must be true or false, got {self.hflip!r}")

    @classmethod
    def from_fields(cls, data: dict[str, Any], *, source: str) -> ProxySchedule:
        """A schedule from its fields as a config or a run records them (validated).

        An unknown field raises ``ValueError`` naming it, ``source`` and the known fields.
        """
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(
                f"unknown proxy schedule field {unknown[0]!r} in {source}: "
                f"expected one of {', '.join(sorted(known))}"
            )
        return cls(**data)

    def longer(self, factor: float) -> ProxySchedule:
        """The same schedule with ``factor`` times the epochs (same subset, lr and seed)."""
        _check_positive_number("factor", factor)
        return replace(self, epochs=self.epochs * factor)


@dataclass(frozen=True)
class EvalResult:
    """What one training run produced: accuracy in [0, 1] on ``eval_images`` held-out images.

    ``train_seconds`` covers the optimisation steps only; ``prep_seconds`` the one-off resizing
    of the data to ``proxy_resolution`` (zero when cached) and ``eval_seconds`` the scoring.
    """

    accuracy: float
    train_seconds: float
    images_per_second: float
    epochs: float
    proxy_resolution: int
    steps: int
    train_images: int
    eval_images: int
    eval_split: str
    final_loss: float
    prep_seconds: float
    eval_seconds: float
    threads: int

    @property
    def val_images(self) -> int:
        """Number of images scored (the driver records it under this name)."""
        return self.eval_images

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        from dataclasses import asdict

        return asdict(self)


class TrainingFailed(RuntimeError):
    """Training diverged (NaN, infinite or exploding loss); the message says when and why."""


@dataclass
class _Tensors:
    """One split prepared for training or scoring: float32 channels_last images and labels."""

    images: torch.Tensor
    labels: torch.Tensor


@dataclass
class _Prepared:
    train: _Tensors
    held_out: _Tensors
    seconds: float
    resolution: int


@dataclass
class _Split:
    """Indices into the data set's arrays: what is trained on and what is scored."""

    train_images: np.ndarray
    train_labels: np.ndarray
    eval_images: np.ndarray
    eval_labels: np.ndarray
    eval_split: str
    cache: dict[int, _Prepared] = field(default_factory=dict)


class ProxyEvaluator:
    """Scores architectures by short-schedule training: ``evaluate(arch) -> EvalResult``.

    Trains on a fixed subset (``schedule.train_subset`` images, drawn with ``schedule.seed``) of
    the training part of ``train_val_split(val_fraction, seed=split_seed)`` and scores on its
    validation part. Weights, batch order and flips are seeded, so the same architecture and
    schedule score the same on the same thread count. Prepared tensors are cached per proxy
    resolution, so only the first candidate at each resolution pays for resizing.
    """

    def __init__(
        self,
        *,
        dataset: Dataset,
        schedule: ProxySchedule,
        threads: int = 1,
        val_fraction: float = 0.1,
        split_seed: int = 0,
    ) -> None:
        from search.proxy.data import train_val_split

        if not isinstance(schedule, ProxySchedule):
            raise TypeError(f"schedule must be a ProxySchedule, got {type(schedule).__name__}")
        _check_positive_int("threads", threads)
        self.dataset = dataset
        self.schedule = schedule
        self.threads = threads
        self.val_fraction = val_fraction
        self.split_seed = split_seed
        train_idx, val_idx = train_val_split(
            len(dataset.train_labels), val_fraction=val_fraction, seed=split_seed
        )
        rng = np.random.default_rng(schedule.seed)
        size = min(schedule.train_subset, len(train_idx))
        subset = np.sort(rng.choice(np.asarray(train_idx), size=size, replace=False))
        self.train_indices: np.ndarray = subset
        self.val_indices: np.ndarray = np.sort(np.asarray(val_idx))
        self._split = _Split(
            train_images=dataset.train_images[subset],
            train_labels=dataset.train_labels[subset],
            eval_images=dataset.train_images[self.val_indices],
            eval_labels=dataset.train_labels[self.val_indices],
            eval_split="val",
        )

    def task_arch(self, arch: Arch) -> Arch:
        """``arch`` with the data set's input channels and number of classes."""
        if not isinstance(arch, Arch):
            raise TypeError(f"expected an Arch, got {type(arch).__name__}: {arch!r}")
        return replace(
            arch, in_channels=self.dataset.in_channels, num_classes=self.dataset.num_classes
        )

    def evaluate(self, arch: Arch) -> EvalResult:
        """Train ``arch`` with the schedule and return its validation accuracy and timings."""
        import torch

        from space.model import build_model

        arch = self.task_arch(arch)
        _set_threads(self.threads)
        torch.manual_seed(self.schedule.seed)
        model = build_model(arch)
        resolution = proxy_resolution(arch.resolution, self.dataset.image_size)
        return _run(model, self._split, self.schedule, resolution, self.threads, None)


def train_model(
    model: nn.Module,
    dataset: Dataset,
    schedule: ProxySchedule,
    *,
    threads: int = 1,
    eval_split: EvalSplit = "val",
    resolution: int | None = None,
    val_fraction: float = 0.1,
    split_seed: int = 0,
    progress: Callable[[int, int, float], None] | None = None,
) -> EvalResult:
    """Train ``model`` in place with ``schedule`` and score it (the loop `ProxyEvaluator` uses).

    ``eval_split="val"`` trains on the schedule's subset of the training part of the split and
    scores the validation part, as the search does. ``eval_split="test"`` trains on the whole
    training split (``train_subset`` is ignored) and scores the test set, for a final figure.
    ``resolution`` defaults to `proxy_resolution` of ``model.arch`` (a `space` model), else the
    data's own size. Seed the weights before building ``model``; batch order uses
    ``schedule.seed``. ``progress(step, total_steps, loss)`` is called every 50 steps.
    """
    from search.proxy.data import train_val_split

    if eval_split not in EVAL_SPLITS:
        raise ValueError(f"eval_split {eval_split!r} is not one of {', '.join(EVAL_SPLITS)}")
    _check_positive_int("threads", threads)
    if resolution is None:
        arch = getattr(model, "arch", None)
        resolution = (
            proxy_resolution(arch.resolution, dataset.image_size)
            if isinstance(arch, Arch)
            else dataset.image_size
        )
    _check_positive_int("resolution", resolution)
    if eval_split == "test":
        split = _Split(
            train_images=dataset.train_images,
            train_labels=dataset.train_labels,
            eval_images=dataset.test_images,
            eval_labels=dataset.test_labels,
            eval_split="test",
        )
    else:
        train_idx, val_idx = train_val_split(
            len(dataset.train_labels), val_fraction=val_fraction, seed=split_seed
        )
        rng = np.random.default_rng(schedule.seed)
        size = min(schedule.train_subset, len(train_idx))
        subset = np.sort(rng.choice(np.asarray(train_idx), size=size, replace=False))
        split = _Split(
            train_images=dataset.train_images[subset],
            train_labels=dataset.train_labels[subset],
            eval_images=dataset.train_images[np.sort(val_idx)],
            eval_labels=dataset.train_labels[np.sort(val_idx)],
            eval_split="val",
        )
    _set_threads(threads)
    return _run(model, split, schedule, resolution, threads, progress)


# -- the loop ---------------------------------------------------------------------------------


def _run(
    model: nn.Module,
    split: _Split,
    schedule: ProxySchedule,
    resolution: int,
    threads: int,
    progress: Callable[[int, int, float], None] | None,
) -> EvalResult:
    """Prepare (or reuse) the tensors at ``resolution``, train, score."""
    prepared = split.cache.get(resolution)
    prep_seconds = 0.0
    if prepared is None:
        prepared = _prepare(split, resolution)
        prep_seconds = prepared.seconds
        split.cache[resolution] = prepared
    num_classes = int(getattr(getattr(model, "arch", None), "num_classes", 0)) or int(
        prepared.train.labels.max().item() + 1
    )
    train_seconds, steps, images, final_loss = _fit(
        model, prepared.train, schedule, num_classes, progress
    )
    clock = time.perf_counter()
    _recalibrate_bn(model, prepared.train)
    accuracy = _score(model, prepared.held_out)
    eval_seconds = time.perf_counter() - clock
    return EvalResult(
        accuracy=accuracy,
        train_seconds=train_seconds,
        images_per_second=images / train_seconds if train_seconds > 0 else 0.0,
        epochs=schedule.epochs,
        proxy_resolution=resolution,
        steps=steps,
        train_images=len(prepared.train.labels),
        eval_images=len(prepared.held_out.labels),
        eval_split=split.eval_split,
        final_loss=final_loss,
        prep_seconds=prep_seconds,
        eval_seconds=eval_seconds,
        threads=threads,
    )


def _prepare(split: _Split, resolution: int) -> _Prepared:
    """Resize both parts to ``resolution`` and normalise with the training part's statistics."""
    import torch

    clock = time.perf_counter()
    train = split.train_images
    if train.ndim != 4 or train.dtype != np.uint8:
        raise ValueError(
            f"training images must be uint8 N x C x H x W, got {train.dtype} {train.shape}"
        )
    # Statistics from the training part only, so nothing about the held-out images leaks in.
    mean, std = channel_stats(train)
    prepared = _Prepared(
        train=_Tensors(
            normalise(train, resolution, mean, std), torch.from_numpy(split.train_labels).long()
        ),
        held_out=_Tensors(
            normalise(split.eval_images, resolution, mean, std),
            torch.from_numpy(split.eval_labels).long(),
        ),
        seconds=0.0,
        resolution=resolution,
    )
    prepared.seconds = time.perf_counter() - clock
    return prepared


def channel_stats(images: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel mean and std (1 x C x 1 x 1, float32) of uint8 N x C x H x W images / 255.

    The proxy's input normalisation; the std is at least 1e-3 so a flat channel does not blow up.
    """
    import torch

    pixels = images.transpose(1, 0, 2, 3).reshape(images.shape[1], -1).astype(np.float64) / 255.0
    mean = torch.tensor(pixels.mean(axis=1), dtype=torch.float32).view(1, -1, 1, 1)
    std = torch.tensor(pixels.std(axis=1), dtype=torch.float32).clamp_min(1e-3).view(1, -1, 1, 1)
    return mean, std


def normalise(
    images: np.ndarray, resolution: int, mean: torch.Tensor, std: torch.Tensor
) -> torch.Tensor:
    """uint8 N x C x H x W -> normalised float32 N x C x r x r, channels_last, in chunks.

    Pixels are scaled to [0, 1], resized (antialiased bilinear) and normalised with `channel_stats`.
    """
    import torch
    import torch.nn.functional as F

    count, channels = images.shape[0], images.shape[1]
    out = torch.empty((count, channels, resolution, resolution), dtype=torch.float32)
    out = out.contiguous(memory_format=torch.channels_last)
    for start in range(0, count, 4096):
        chunk = torch.from_numpy(np.ascontiguousarray(images[start : start + 4096])).float()
        chunk.div_(255.0)
        if chunk.shape[-2:] != (resolution, resolution):
            # Antialiased bilinear, so downsampling averages instead of skipping pixels.
            chunk = F.interpolate(
                chunk, size=(resolution, resolution), mode="bilinear", antialias=True
            )
        out[start : start + len(chunk)] = chunk.sub_(mean).div_(std)
    return out


def _fit(
    model: nn.Module,
    data: _Tensors,
    schedule: ProxySchedule,
    num_classes: int,
    progress: Callable[[int, int, float], None] | None,
) -> tuple[float, int, int, float]:
    """Train in place; returns (seconds, steps, images seen, mean loss over the last 10 %)."""
    import torch
    import torch.nn.functional as F

    count = len(data.labels)
    batch = min(schedule.batch_size, count)
    per_epoch = max(1, count // batch)  # drop the ragged last batch: one shape, one code path
    total = max(1, round(schedule.epochs * per_epoch))
    warmup = round(schedule.warmup_fraction * total)
    limit = DIVERGENCE_FACTOR * math.log(max(2, num_classes))

    model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
    model.train()
    decay = [p for p in model.parameters() if p.requires_grad and p.ndim > 1]
    no_decay = [p for p in model.parameters() if p.requires_grad and p.ndim <= 1]
    groups = [
        {"params": decay, "weight_decay": schedule.weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]
    optimizer: torch.optim.Optimizer
    if schedule.optimizer == "adamw":
        optimizer = torch.optim.AdamW(groups, lr=schedule.lr, betas=(schedule.momentum, 0.999))
    else:
        optimizer = torch.optim.SGD(
            groups, lr=schedule.lr, momentum=schedule.momentum, nesterov=schedule.momentum > 0
        )
    generator = torch.Generator().manual_seed(schedule.seed)
    order = torch.randperm(count, generator=generator)
    tail = max(1, total // 10)
    tail_loss = 0.0
    clock = time.perf_counter()
    for step in range(total):
        position = step % per_epoch
        if position == 0 and step > 0:
            order = torch.randperm(count, generator=generator)
        index = order[position * batch : (position + 1) * batch]
        images = data.images.index_select(0, index)
        if schedule.hflip:
            flip = torch.rand(batch, generator=generator) < 0.5
            images[flip] = images[flip].flip(3)
        images = images.contiguous(memory_format=torch.channels_last)
        lr = _lr_at(step, total, warmup, schedule.lr)
        for group in optimizer.param_groups:
            group["lr"] = lr
        loss = F.cross_entropy(
            model(images), data.labels[index], label_smoothing=schedule.label_smoothing
        )
        value = loss.item()
        if not math.isfinite(value) or value > limit:
            raise TrainingFailed(
                f"training diverged: loss {value:.4g} at step {step + 1} of {total} "
                f"(epoch {step / per_epoch:.2f}, lr {lr:.3g}); chance level is "
                f"{math.log(max(2, num_classes)):.3g}"
            )
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if step >= total - tail:
            tail_loss += value
        if progress is not None and (step + 1) % 50 == 0:
            progress(step + 1, total, value)
    seconds = time.perf_counter() - clock
    return seconds, total, total * batch, tail_loss / tail


def _lr_at(step: int, total: int, warmup: int, peak: float) -> float:
    """Linear warm-up over ``warmup`` steps, then cosine decay from ``peak`` to 0 at ``total``."""
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return 0.5 * peak * (1.0 + math.cos(math.pi * progress))


def _recalibrate_bn(model: nn.Module, data: _Tensors) -> None:
    """Re-estimate BN running statistics as exact averages over up to `BN_IMAGES` training images.

    After a few hundred steps the running averages (momentum 0.1) still lag the weights, which
    costs eval-mode accuracy unevenly across candidates and so blurs their ranking.
    """
    import torch
    from torch import nn

    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not norms:
        return
    saved = [m.momentum for m in norms]
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None  # cumulative moving average: every batch weighs the same
    model.train()
    with torch.no_grad():
        for start in range(0, min(BN_IMAGES, len(data.labels)), EVAL_BATCH):
            model(data.images[start : start + EVAL_BATCH])
    for norm, momentum in zip(norms, saved, strict=True):
        norm.momentum = momentum


def _score(model: nn.Module, data: _Tensors) -> float:
    """Top-1 accuracy in eval mode (BN running statistics), batched, without autograd."""
    import torch

    model.eval()
    correct = 0
    with torch.inference_mode():
        for start in range(0, len(data.labels), EVAL_BATCH):
            logits = model(data.images[start : start + EVAL_BATCH])
            if not torch.isfinite(logits).all():
                raise TrainingFailed("the trained network outputs non-finite logits")
            predicted = logits.argmax(dim=1)
            correct += int((predicted == data.labels[start : start + EVAL_BATCH]).sum())
    return correct / len(data.labels)


# -- helpers ----------------------------------------------------------------------------------


def _set_threads(threads: int) -> None:
    """Pin torch's intra-op threads (and inter-op, which torch allows to set only once)."""
    import torch

    torch.set_num_threads(threads)
    # Torch allows this once per process, before parallel work starts; later calls keep it.
    with contextlib.suppress(RuntimeError):
        torch.set_num_interop_threads(threads)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_positive_int(name: str, value: object) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")


def _check_positive_number(name: str, value: object) -> None:
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive number, got {value!r}")
