"""Analytic multiply-adds and parameters against a hook-based count on the built PyTorch model,
and the layer walk of every block type."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
import pytest
import torch
from torch import nn

from space import (
    ACTIVATIONS,
    Arch,
    SearchSpace,
    Stage,
    blocks,
    build_model,
    count_macs,
    count_params,
    count_trainable_params,
    layers,
    mobilenet_v1,
    mobilenet_v2,
    mobilenet_v3,
)


def hooked_counts(arch: Arch) -> tuple[list[int], list[int], list[tuple[int, ...]]]:
    """Per layer of the walk: MACs and conv+linear parameters measured by forward hooks on a
    batch of 1, and output shapes, via the model's modules for those layers."""
    model = build_model(arch).eval()
    modules = model.layer_modules()
    macs = [0] * len(modules)
    params = [0] * len(modules)
    shapes: list[tuple[int, ...]] = []
    current = {"index": -1}

    def enter(index: int) -> Callable[..., None]:
        def hook(module: nn.Module, inputs: tuple[torch.Tensor, ...]) -> None:
            current["index"] = index

        return hook

    def leave(module: nn.Module, inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> None:
        shapes.append(tuple(output.shape[1:]))

    def count(module: nn.Module, inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> None:
        index = current["index"]
        if isinstance(module, nn.Conv2d):
            kh, kw = module.kernel_size
            per_output = (module.in_channels // module.groups) * kh * kw
            macs[index] += output.numel() * per_output
        elif isinstance(module, nn.Linear):
            macs[index] += output.numel() * module.in_features
        params[index] += sum(p.numel() for p in module.parameters())

    for index, module in enumerate(modules):
        module.register_forward_pre_hook(enter(index))
        module.register_forward_hook(leave)
    for module in model.modules():
        if isinstance(module, nn.Conv2d | nn.Linear):
            module.register_forward_hook(count)
    with torch.no_grad():
        out = model(torch.zeros(1, arch.in_channels, arch.resolution, arch.resolution))
    assert out.shape == (1, arch.num_classes)
    assert sum(params) == sum(
        p.numel() for m in model.modules() if isinstance(m, nn.Conv2d | nn.Linear)
        for p in m.parameters()
    )  # fmt: skip
    return macs, params, shapes


def sampled_archs(space: SearchSpace, count: int, seed: int) -> list[Arch]:
    """Members of ``space``, at small resolutions (odd ones too) to keep the test fast."""
    rng = np.random.default_rng(seed)
    archs = []
    for _ in range(count):
        arch = space.sample(rng)
        resolution = int(rng.integers(8, 72))
        archs.append(dataclasses.replace(arch, resolution=resolution))
    return archs


def random_archs(count: int, seed: int, blocks: tuple[str, ...] = ("ds",)) -> list[Arch]:
    """Arbitrary architectures outside the spaces: any odd kernel, stride, stage count, width,
    block type, expansion, squeeze-excite, activation, stem stride and head form."""
    rng = np.random.default_rng(seed)
    archs = []
    for _ in range(count):
        stages = []
        for _ in range(int(rng.integers(1, 7))):
            block = str(rng.choice(blocks))
            stages.append(
                Stage(
                    width=int(rng.integers(1, 48)),
                    depth=int(rng.integers(1, 4)),
                    kernel=int(rng.choice([1, 3, 5, 7, 9])),
                    stride=int(rng.choice([1, 2])),
                    block=block,
                    expansion=float(rng.choice([1, 2.5, 3.67, 6])) if block == "ir" else 1.0,
                    se=bool(rng.integers(2)) if block == "ir" else False,
                    activation=str(rng.choice(ACTIVATIONS)),
                )
            )
        head_width = int(rng.integers(1, 64)) if rng.integers(2) else None
        head_hidden = int(rng.integers(1, 64)) if rng.integers(2) else None
        head_layer = head_width is not None or head_hidden is not None
        archs.append(
            Arch(
                resolution=int(rng.integers(1, 40)),
                in_channels=int(rng.integers(1, 5)),
                num_classes=int(rng.integers(1, 20)),
                stem_width=int(rng.integers(1, 40)),
                stages=tuple(stages),
                stem_stride=int(rng.choice([1, 2])),
                stem_activation=str(rng.choice(ACTIVATIONS)),
                head_width=head_width,
                head_hidden=head_hidden,
                head_activation=str(rng.choice(ACTIVATIONS)) if head_layer else "relu",
            )
        )
    return archs


CASES = (
    sampled_archs(SearchSpace.default(), 24, seed=1)
    + random_archs(16, seed=2)
    + sampled_archs(SearchSpace.preset("v2").with_task(3, 10), 8, seed=3)
    + sampled_archs(SearchSpace.preset("v3").with_task(3, 10), 8, seed=4)
    + random_archs(24, seed=5, blocks=("ds", "ir"))
)


@pytest.mark.parametrize("arch", CASES, ids=[a.to_str() for a in CASES])
def test_analytic_counts_equal_hooked_counts(arch: Arch) -> None:
    macs, params, shapes = hooked_counts(arch)
    walk = layers(arch)
    assert [layer.macs for layer in walk] == macs
    assert [layer.params for layer in walk] == params
    assert [layer.out_shape for layer in walk] == shapes
    assert count_macs(arch) == sum(macs)
    assert count_params(arch) == sum(params)
    model = build_model(arch)
    assert count_trainable_params(arch) == sum(p.numel() for p in model.parameters())
    assert count_trainable_params(arch) == sum(
        p.numel() for p in model.parameters() if p.requires_grad
    )


@pytest.mark.parametrize(
    "arch", [mobilenet_v2(1.0, 224), mobilenet_v3("large", 1.0, 224)], ids=["v2", "v3-large"]
)
def test_hooked_counts_of_v2_and_v3_at_full_size(arch: Arch) -> None:
    macs, params, _ = hooked_counts(arch)
    assert (sum(macs), sum(params)) == (count_macs(arch), count_params(arch))


def test_hooked_counts_of_mobilenet_v1_at_full_size() -> None:
    arch = mobilenet_v1(1.0, 224)
    macs, params, _ = hooked_counts(arch)
    assert (sum(macs), sum(params)) == (count_macs(arch), count_params(arch))
    assert (count_macs(arch), count_params(arch)) == (568_740_352, 4_210_088)
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


def test_inverted_residual_walk() -> None:
    arch = Arch.parse(
        "stem_r32_i3_c16_s1_hswish:ir_r2_k5_s2_e4_c24_se:ir_r1_k3_s1_e1_c24_relu6:"
        "head_c96_h128_n10_hswish"
    )
    walk = layers(arch)
    assert [(layer.name, layer.kind) for layer in walk] == [
        ("stem", "stem"),
        ("s1.b1.exp", "expand"),
        ("s1.b1.dw", "depthwise"),
        ("s1.b1.se", "se"),
        ("s1.b1.proj", "project"),
        ("s1.b2.exp", "expand"),
        ("s1.b2.dw", "depthwise"),
        ("s1.b2.se", "se"),
        ("s1.b2.proj", "project"),
        ("s2.b1.dw", "depthwise"),
        ("s2.b1.proj", "project"),
        ("head.conv", "head_conv"),
        ("head.hidden", "hidden"),
        ("head", "head"),
    ]
    assert [layer.in_shape for layer in walk] == [
        (3, 32, 32),  # stride-1 stem
        (16, 32, 32),
        (64, 32, 32),  # expanded to make_divisible(4 * 16)
        (64, 16, 16),
        (64, 16, 16),
        (24, 16, 16),
        (96, 16, 16),  # 4 * 24
        (96, 16, 16),
        (96, 16, 16),
        (24, 16, 16),  # expansion 1: no expansion conv
        (24, 16, 16),
        (24, 16, 16),
        (96, 16, 16),  # the hidden layer pools the 16x16 map
        (128, 1, 1),
    ]
    assert [layer.activation for layer in walk] == [
        "hswish", "relu", "relu", None, None, "relu", "relu", None, None, "relu6", None,
        "hswish", "hswish", None,
    ]  # fmt: skip
    # Squeeze-excite: 64 -> make_divisible(16) = 16 -> 64, both with bias.
    assert (walk[3].macs, walk[3].params) == (2 * 64 * 16, 2 * 64 * 16 + 16 + 64)
    assert (walk[-2].kernel, walk[-1].kernel) == (16, 1)
    block_list = blocks(arch)
    assert [b.name for b in block_list] == ["stem", "s1.b1", "s1.b2", "s2.b1", "head"]
    assert [b.residual for b in block_list] == [False, False, True, True, False]
    assert [b.mid_channels for b in block_list[1:4]] == [64, 96, 24]
    assert sum(b.macs for b in block_list) == count_macs(arch)


def test_no_expansion_conv_when_the_middle_width_equals_the_input() -> None:
    """TF-Slim's and torchvision's rule: an expansion that rounds back to the input width adds no
    conv (make_divisible(1.05 * 64) = 64)."""
    arch = Arch.parse("stem_r16_i3_c64:ir_r1_k3_s1_e1.05_c64:ir_r1_k3_s1_e1.2_c64:head_n4")
    kinds = [[layer.kind for layer in block.layers] for block in blocks(arch)[1:3]]
    assert kinds == [["depthwise", "project"], ["expand", "depthwise", "project"]]
    assert [block.mid_channels for block in blocks(arch)[1:3]] == [64, 80]
    macs, _, _ = hooked_counts(arch)
    assert sum(macs) == count_macs(arch)
