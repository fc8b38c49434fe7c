"""Analytic multiply-adds and parameters against a hook-based count on the built PyTorch model."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from torch import nn

from space import (
    Arch,
    SearchSpace,
    Stage,
    build_model,
    count_macs,
    count_params,
    count_trainable_params,
    layers,
    mobilenet_v1,
)


def hooked_counts(arch: Arch) -> tuple[int, int, list[tuple[int, ...]]]:
    """(MACs, conv+linear parameters, output shapes) measured by forward hooks on a batch of 1."""
    model = build_model(arch).eval()
    macs = 0
    params = 0
    shapes: list[tuple[int, ...]] = []

    def hook(module: nn.Module, inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> None:
        nonlocal macs, params
        shapes.append(tuple(output.shape[1:]))
        if isinstance(module, nn.Conv2d):
            kh, kw = module.kernel_size
            per_output = (module.in_channels // module.groups) * kh * kw
            macs += output.numel() * per_output
        elif isinstance(module, nn.Linear):
            macs += output.numel() * module.in_features
        params += sum(p.numel() for p in module.parameters())

    for module in model.modules():
        if isinstance(module, nn.Conv2d | nn.Linear):
            module.register_forward_hook(hook)
    with torch.no_grad():
        out = model(torch.zeros(1, arch.in_channels, arch.resolution, arch.resolution))
    assert out.shape == (1, arch.num_classes)
    return macs, params, shapes


def sampled_archs(count: int, seed: int) -> list[Arch]:
    """Members of the default space, at small resolutions (odd ones too) to keep the test fast."""
    space = SearchSpace.default()
    rng = np.random.default_rng(seed)
    archs = []
    for _ in range(count):
        arch = space.sample(rng)
        resolution = int(rng.integers(8, 72))
        archs.append(dataclasses.replace(arch, resolution=resolution))
    return archs


def random_archs(count: int, seed: int) -> list[Arch]:
    """Arbitrary architectures outside the space: any odd kernel, stride, stage count, channels."""
    rng = np.random.default_rng(seed)
    archs = []
    for _ in range(count):
        stages = tuple(
            Stage(
                width=int(rng.integers(1, 48)),
                depth=int(rng.integers(1, 4)),
                kernel=int(rng.choice([1, 3, 5, 7, 9])),
                stride=int(rng.choice([1, 2])),
            )
            for _ in range(int(rng.integers(1, 7)))
        )
        archs.append(
            Arch(
                resolution=int(rng.integers(1, 40)),
                in_channels=int(rng.integers(1, 5)),
                num_classes=int(rng.integers(1, 20)),
                stem_width=int(rng.integers(1, 40)),
                stages=stages,
            )
        )
    return archs


CASES = sampled_archs(24, seed=1) + random_archs(16, seed=2)


@pytest.mark.parametrize("arch", CASES, ids=[a.to_str() for a in CASES])
def test_analytic_counts_equal_hooked_counts(arch: Arch) -> None:
    macs, params, shapes = hooked_counts(arch)
    assert count_macs(arch) == macs
    assert count_params(arch) == params
    assert [layer.out_shape for layer in layers(arch)] == shapes
    model = build_model(arch)
    assert count_trainable_params(arch) == sum(p.numel() for p in model.parameters())
    assert count_trainable_params(arch) == sum(
        p.numel() for p in model.parameters() if p.requires_grad
    )


def test_hooked_counts_of_mobilenet_v1_at_full_size() -> None:
    arch = mobilenet_v1(1.0, 224)
    macs, params, _ = hooked_counts(arch)
    assert (macs, params) == (count_macs(arch), count_params(arch)) == (568_740_352, 4_210_088)
    # Keras' MobileNet(alpha=1.0) reports 4,231,976 trainable parameters (weights plus BN).
    assert count_trainable_params(arch) == 4_231_976


def test_layer_walk_threads_channels_and_strides() -> None:
    arch = Arch.parse("stem_r33_i2_c8:ds_r2_k5_s2_c16:ds_r1_k3_s1_c24:head_n7")
    walk = layers(arch)
    assert [layer.name for layer in walk] == [
        "stem",
        "s1.b1.dw",
        "s1.b1.pw",
        "s1.b2.dw",
        "s1.b2.pw",
        "s2.b1.dw",
        "s2.b1.pw",
        "head",
    ]
    assert [layer.in_shape for layer in walk] == [
        (2, 33, 33),
        (8, 17, 17),
        (8, 9, 9),
        (16, 9, 9),
        (16, 9, 9),
        (16, 9, 9),
        (16, 9, 9),
        (24, 9, 9),
    ]
    # Only the first block of a stage strides.
    assert [layer.stride for layer in walk if layer.kind == "depthwise"] == [2, 1, 1]
    assert walk[-1].out_shape == (7,)
    assert walk[0].macs == 17 * 17 * 8 * 2 * 9
    assert walk[1].macs == 9 * 9 * 8 * 25
    assert walk[-1].params == 24 * 7 + 7
