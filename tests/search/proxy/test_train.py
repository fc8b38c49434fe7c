"""Proxy training: resolution mapping, schedule checks, determinism, divergence, splits."""

from __future__ import annotations

import numpy as np
import pytest

from search.proxy.data import synthetic_dataset, train_val_split
from search.proxy.train import (
    EvalResult,
    ProxyEvaluator,
    ProxySchedule,
    TrainingFailed,
    proxy_base_size,
    proxy_resolution,
    train_model,
)
from space import Arch, SearchSpace, build_model

# Small enough that one evaluation takes well under a second on one thread.
FAST = ProxySchedule(epochs=4, train_subset=384, batch_size=32, lr=0.05)


@pytest.fixture(scope="module")
def data():  # type: ignore[no-untyped-def]
    return synthetic_dataset(num_train=512, num_test=128, num_classes=4, image_size=16, seed=0)


def tiny_arch(resolution: int = 224, kernel: int = 3, channels: int = 1, classes: int = 4) -> Arch:
    """The default space's multiplier 0.25 everywhere, depths (1, 1, 1, 2, 1)."""
    stages = ":".join(
        f"ds_r{depth}_k{kernel}_s{stride}_c{width}"
        for depth, stride, width in ((1, 1, 16), (1, 2, 32), (1, 2, 64), (2, 2, 128), (1, 2, 256))
    )
    arch = Arch.parse(f"stem_r{resolution}_i{channels}_c8:{stages}:head_n{classes}")
    assert SearchSpace.default().with_task(channels, classes).contains(arch)
    return arch


# -- proxy_resolution ---------------------------------------------------------------------------


def test_proxy_resolution_documented_values_for_fashion_mnist() -> None:
    assert proxy_base_size(28) == 32
    assert [proxy_resolution(r, 28) for r in (128, 160, 192, 224)] == [20, 24, 28, 32]


@pytest.mark.parametrize("image_size", [8, 16, 28, 32, 64, 96])
def test_proxy_resolution_is_monotone_multiple_of_four(image_size: int) -> None:
    sides = [proxy_resolution(r, image_size) for r in range(32, 1025, 8)]
    assert sides == sorted(sides)
    assert all(side % 4 == 0 and side >= 8 for side in sides)
    assert proxy_resolution(224, image_size) == proxy_base_size(image_size)


@pytest.mark.parametrize("bad", [0, -224, 1.5, True, "224"])
def test_proxy_resolution_rejects_bad_resolution(bad: object) -> None:
    with pytest.raises(ValueError, match=r"arch_resolution must be a positive integer, got"):
        proxy_resolution(bad, 28)  # type: ignore[arg-type]


# -- ProxySchedule ------------------------------------------------------------------------------


def test_longer_scales_epochs_only() -> None:
    base = ProxySchedule()
    longer = base.longer(5)
    assert longer.epochs == 5 * base.epochs
    assert (longer.train_subset, longer.lr, longer.seed) == (base.train_subset, base.lr, base.seed)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"lr": 0}, "lr must be a positive number, got 0"),
        ({"epochs": float("nan")}, "epochs must be a positive number, got nan"),
        ({"train_subset": 0}, "train_subset must be a positive integer, got 0"),
        ({"momentum": 1.5}, r"momentum must be a number in \[0, 0.999\], got 1.5"),
        ({"optimizer": "lion"}, "optimizer 'lion' is not one of sgd, adamw"),
        ({"hflip": "yes"}, "hflip must be true or false, got 'yes'"),
    ],
)
def test_schedule_rejects_bad_values(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ProxySchedule(**overrides)  # type: ignore[arg-type]


# -- ProxyEvaluator -----------------------------------------------------------------------------


def test_evaluate_is_deterministic_and_learns(data) -> None:  # type: ignore[no-untyped-def]
    evaluator = ProxyEvaluator(dataset=data, schedule=FAST, threads=1)
    first = evaluator.evaluate(tiny_arch())
    again = ProxyEvaluator(dataset=data, schedule=FAST, threads=1).evaluate(tiny_arch())
    assert isinstance(first, EvalResult)
    assert 0.0 <= first.accuracy <= 1.0
    assert first.accuracy == again.accuracy
    assert first.final_loss == again.final_loss
    # Four balanced classes: chance is 25 %; the gratings are easy once learnt.
    assert first.accuracy >= 0.6
    assert first.proxy_resolution == proxy_resolution(224, 16) == 16
    assert first.steps == 4 * (384 // 32)
    assert first.train_images == 384
    assert first.images_per_second > 0 and first.train_seconds > 0


def test_adamw_with_flips_learns_too(data) -> None:  # type: ignore[no-untyped-def]
    schedule = ProxySchedule(
        epochs=4, train_subset=384, batch_size=32, lr=0.01, optimizer="adamw", hflip=True
    )
    result = ProxyEvaluator(dataset=data, schedule=schedule).evaluate(tiny_arch())
    assert result.accuracy >= 0.6


def test_resolution_changes_what_is_trained(data) -> None:  # type: ignore[no-untyped-def]
    evaluator = ProxyEvaluator(dataset=data, schedule=FAST)
    low = evaluator.evaluate(tiny_arch(resolution=128))
    assert low.proxy_resolution == proxy_resolution(128, 16) == 8
    assert low.prep_seconds > 0  # first candidate at this resolution prepares the tensors
    assert evaluator.evaluate(tiny_arch(resolution=128, kernel=5)).prep_seconds == 0.0


def test_absurd_learning_rate_fails_with_reason(data) -> None:  # type: ignore[no-untyped-def]
    schedule = ProxySchedule(epochs=2, train_subset=128, batch_size=32, lr=1e6)
    evaluator = ProxyEvaluator(dataset=data, schedule=schedule)
    with pytest.raises(TrainingFailed, match=r"training diverged: loss .* at step \d+ of 8"):
        evaluator.evaluate(tiny_arch())


def test_val_split_is_disjoint_from_train_subset_and_not_test(data) -> None:  # type: ignore[no-untyped-def]
    evaluator = ProxyEvaluator(dataset=data, schedule=FAST, val_fraction=0.2, split_seed=3)
    train_idx, val_idx = train_val_split(512, val_fraction=0.2, seed=3)
    assert np.array_equal(evaluator.val_indices, val_idx)
    assert set(evaluator.train_indices) <= set(train_idx)
    assert not set(evaluator.train_indices) & set(evaluator.val_indices)
    assert len(evaluator.train_indices) == FAST.train_subset
    result = evaluator.evaluate(tiny_arch())
    assert result.eval_split == "val"
    assert result.eval_images == result.val_images == len(val_idx) == 102
    assert len(val_idx) != len(data.test_labels)


def test_train_subset_larger_than_split_uses_all_of_it(data) -> None:  # type: ignore[no-untyped-def]
    evaluator = ProxyEvaluator(dataset=data, schedule=ProxySchedule(train_subset=10_000))
    assert len(evaluator.train_indices) == 512 - 51


def test_arch_takes_the_data_sets_channels_and_classes(data) -> None:  # type: ignore[no-untyped-def]
    evaluator = ProxyEvaluator(dataset=data, schedule=FAST)
    imagenet = tiny_arch(128, channels=3, classes=1000)
    task = evaluator.task_arch(imagenet)
    assert (task.in_channels, task.num_classes) == (1, 4)
    with pytest.raises(TypeError, match="expected an Arch, got str"):
        evaluator.evaluate(str(imagenet))  # type: ignore[arg-type]


# -- train_model --------------------------------------------------------------------------------


def test_train_model_on_full_train_split_reports_test_accuracy(data) -> None:  # type: ignore[no-untyped-def]
    import torch

    torch.manual_seed(0)
    model = build_model(tiny_arch())
    steps: list[int] = []
    result = train_model(
        model,
        data,
        ProxySchedule(epochs=4, train_subset=64, batch_size=32, lr=0.05),
        eval_split="test",
        progress=lambda step, total, loss: steps.append(step),
    )
    assert result.eval_split == "test"
    assert result.train_images == 512  # the whole training split: train_subset is ignored
    assert result.eval_images == 128
    assert result.accuracy >= 0.6
    assert steps == [50]  # 4 epochs x 16 steps = 64, reported every 50


def test_train_model_rejects_unknown_split(data) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="eval_split 'train' is not one of val, test"):
        train_model(build_model(tiny_arch()), data, FAST, eval_split="train")  # type: ignore[arg-type]
