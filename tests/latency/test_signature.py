"""Signatures: keys of every kind, their round trip, and agreement with `space`'s counts."""

from __future__ import annotations

import numpy as np
import pytest

from latency.signature import Signature, arch_signatures, block_signatures
from space import (
    Arch,
    SearchSpace,
    blocks,
    count_macs,
    mobilenet_v1,
    mobilenet_v2,
    mobilenet_v3,
    parse_arch_or_baseline,
)
from space.layers import se_width


def test_mobilenet_v1_keys_are_unchanged() -> None:
    keys = [s.key for s in arch_signatures(mobilenet_v1(1.0, 224))]
    assert keys[:3] == [
        "stem_h224_w224_ci3_co32_k3_s2_relu_fp32",
        "depthwise_h112_w112_ci32_co32_k3_s1_relu_fp32",
        "pointwise_h112_w112_ci32_co64_k1_s1_relu_fp32",
    ]
    assert keys[-1] == "head_h7_w7_ci1024_co1000_k7_s1_relu_fp32"
    relu6 = [s.key for s in arch_signatures(mobilenet_v1(1.0, 224), "relu6")]
    assert relu6[-1] == "head_h7_w7_ci1024_co1000_k7_s1_relu6_fp32"


def test_mobilenet_v2_is_stem_one_signature_per_block_head_conv_and_head() -> None:
    signatures = arch_signatures(mobilenet_v2(1.0, 224))
    assert [s.op for s in signatures] == ["stem"] + ["ir"] * 17 + ["pointwise", "head"]
    assert signatures[1].key == "ir_h112_w112_ci32_cm32_co16_k3_s1_se0_res0_relu6_fp32"
    assert signatures[3].key == "ir_h56_w56_ci24_cm144_co24_k3_s1_se0_res1_relu6_fp32"
    assert signatures[-2].key == "pointwise_h7_w7_ci320_co1280_k1_s1_relu6_fp32"
    assert signatures[-1].key == "head_h7_w7_ci1280_co1000_k7_s1_relu_fp32"
    # A table of ReLU6 networks prices ReLU6 layers as they are, and the (activation-free) head
    # as its own ReLU-family key.
    assert arch_signatures(mobilenet_v2(1.0, 224), "relu6")[1:-1] == signatures[1:-1]


def test_mobilenet_v3_keys() -> None:
    signatures = arch_signatures(mobilenet_v3("large", 1.0, 224))
    keys = [s.key for s in signatures]
    assert keys[0] == "stem_h224_w224_ci3_co16_k3_s2_hswish_fp32"
    assert "ir_h56_w56_ci24_cm72_co40_k5_s2_se1_res0_relu_fp32" in keys
    assert "ir_h14_w14_ci80_cm184_co80_k3_s1_se0_res1_hswish_fp32" in keys
    assert keys[-2:] == [
        "pointwise_h7_w7_ci160_co960_k1_s1_hswish_fp32",
        "head_h7_w7_ci960_cm1280_co1000_k7_s1_hswish_fp32",
    ]
    # hard-swish is priced as itself whatever the table's ReLU flavour.
    assert arch_signatures(mobilenet_v3("large", 1.0, 224), "relu6")[-1] == signatures[-1]


PRESET_SAMPLES = [
    SearchSpace.preset(name).sample(np.random.default_rng(seed))
    for name in ("v1", "v2", "v3")
    for seed in range(4)
]
SAMPLES = (
    PRESET_SAMPLES
    + [parse_arch_or_baseline(n) for n in ("mobilenet_v2_0.35_96", "mobilenet_v3_small_0.75_224")]
    + [
        Arch.parse(
            "stem_r33_i2_c12_s1:ds_r2_k5_s2_c16_relu6:ir_r2_k3_s1_e1.05_c16_se:"
            "ir_r1_k7_s2_e3_c20_hswish:head_h17_n3_relu6"
        )
    ]
)


@pytest.mark.parametrize("arch", SAMPLES, ids=[a.to_str() for a in SAMPLES])
def test_signatures_round_trip_and_count_the_networks_macs(arch: Arch) -> None:
    signatures = arch_signatures(arch)
    assert sum(s.macs for s in signatures) == count_macs(arch)
    for signature in signatures:
        assert Signature.from_key(signature.key) == signature
    for block in blocks(arch):
        assert sum(s.macs for s in block_signatures(block)) == block.macs


@pytest.mark.parametrize(
    ("key", "fragment"),
    [
        ("ir_h14_w14_ci80_co80_k3_s1_se0_res1_relu_fp32", "an ir signature needs its middle"),
        ("ir_h14_w14_ci80_cm80_co80_k3_s1_relu_fp32", "malformed signature key"),
        ("depthwise_h14_w14_ci8_co8_k3_s1_se0_res0_relu_fp32", "malformed signature key"),
        ("ir_h14_w14_ci80_cm80_co96_k3_s1_se0_res1_relu_fp32", "a residual add needs stride 1"),
        ("ir_h14_w14_ci80_cm80_co80_k3_s2_se0_res1_relu_fp32", "a residual add needs stride 1"),
        ("pointwise_h14_w14_ci8_cm16_co8_k1_s1_relu_fp32", "has no middle width"),
        ("head_h7_w7_ci96_cm0_co10_k7_s1_relu_fp32", "is not canonical"),
        ("head_h07_w7_ci96_co10_k7_s1_relu_fp32", "is not canonical"),
        ("ir_h14_w14_ci80_cm80_co80_k3_s1_se2_res0_relu_fp32", "malformed signature key"),
        ("stem_h14_w14_ci3_co8_k3_s2_gelu_fp32", "unknown activation 'gelu'"),
        ("conv_h14_w14_ci3_co8_k3_s2_relu_fp32", "malformed signature key"),
    ],
)
def test_bad_keys_are_one_line_errors(key: str, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment) as info:
        Signature.from_key(key)
    assert "\n" not in str(info.value)


def test_relu_pricing_must_be_a_relu_flavour() -> None:
    with pytest.raises(ValueError, match="prices ReLU layers as one of relu, relu6, got 'hswish'"):
        arch_signatures(mobilenet_v1(0.25, 128), "hswish")


@pytest.mark.parametrize("arch", SAMPLES, ids=[a.to_str() for a in SAMPLES])
def test_weights_of_a_signature_are_its_blocks(arch: Arch) -> None:
    """Weight tensors of an ir or head signature are the block's (biases and BN excluded)."""
    for block in blocks(arch):
        if block.kind == "stem":
            continue
        biases = sum(
            layer.params - layer.in_channels * layer.out_channels
            if layer.kind in ("hidden", "head")
            else se_width(layer.in_channels) + layer.in_channels
            for layer in block.layers
            if layer.kind in ("se", "hidden", "head")
        )
        weights = sum(layer.params for layer in block.layers) - biases
        assert sum(s.weight_count for s in block_signatures(block)) == weights
