"""Block-table importers: ProxylessNAS/OFA YAML keys and HW-NAS-Bench FBNet JSON (real copies)."""

from __future__ import annotations

import collections
from pathlib import Path

import pytest

from latency.arm.blocks import parse_block_key, parse_block_table, parse_fbnet
from latency.arm.fbnet_check import fbnet_block_ops
from latency.arm.trim_copies import proxylessnas_block_keys

DATA = Path(__file__).resolve().parents[3] / "latency" / "tables" / "data"
TRIM = DATA / "proxylessnas_mobile_trim_lut"


@pytest.mark.parametrize(
    ("name", "network_sum"), [("mobile_trim_copy_a.yaml", 86.4), ("mobile_trim_copy_b.yaml", 82.5)]
)
def test_trim_tables_parse_and_sum_as_sources_md_says(name: str, network_sum: float) -> None:
    records = parse_block_table(TRIM / name)
    assert len(records) == 72
    by_key = {r.key: r for r in records}
    # SOURCES.md: summing over ProxylessNAS-Mobile's blocks gives 86.4 (copy_a), 82.5 (copy_b).
    assert sum(by_key[k].mean_ms for k in proxylessnas_block_keys()) == pytest.approx(
        network_sum, abs=0.05
    )
    first = by_key[
        "expanded_conv-input:112x112x32-output:112x112x16-expand:1-kernel:3-stride:1-idskip:0"
    ]
    assert [s.key for s in first.signatures()] == [
        "depthwise_h112_w112_ci32_co32_k3_s1_relu6_fp32",
        "pointwise_h112_w112_ci32_co16_k1_s1_relu6_fp32",
    ]


def test_copies_share_keys_but_not_values() -> None:
    a = {r.key: r.mean_ms for r in parse_block_table(TRIM / "mobile_trim_copy_a.yaml")}
    b = {r.key: r.mean_ms for r in parse_block_table(TRIM / "mobile_trim_copy_b.yaml")}
    assert a.keys() == b.keys()
    assert all(a[k] != b[k] for k in a)


def test_ofa_key_with_middle_channels_and_squeeze_excitation() -> None:
    op, inp, out, params = parse_block_key(
        "expanded_conv-input:112x112x24-output:56x56x32-expand:144-kernel:5-stride:2-idskip:0-se:0-hs:0"
    )
    assert (op, inp, out) == ("expanded_conv", (112, 112, 24), (56, 56, 32))
    assert params == {"expand": 144, "kernel": 5, "stride": 2, "idskip": 0, "se": 0, "hs": 0}
    assert parse_block_key("Logits-input:1x1x1536-output:1000")[2] == (1, 1, 1000)
    with pytest.raises(ValueError, match="malformed lookup-table key 'conv 3x3'"):
        parse_block_key("conv 3x3")


def test_ofa_yaml_expand_is_channels(tmp_path: Path) -> None:
    table = tmp_path / "224_lookup_table.yaml"
    table.write_text(
        "expanded_conv-input:14x14x136-output:14x14x136-expand:408-kernel:3-stride:1-idskip:1-se:1-hs:1:\n"
        "  count: 500\n  mean: 1.25\n  std: 0.02\n"
        "expanded_conv-input:112x112x24-output:56x56x32-expand:72-kernel:3-stride:2-idskip:0-se:0-hs:0:\n"
        "  count: 54\n  mean: 3.5\n  std: 0.1\n"
    )
    se, plain = parse_block_table(table, expand="channels")
    assert (se.middle_channels, plain.middle_channels) == (408, 72)
    assert plain.std_ms == 0.1 and plain.count == 54
    assert [s.op for s in plain.signatures()] == ["pointwise", "depthwise", "pointwise"]
    with pytest.raises(ValueError, match="squeeze-excitation or h-swish"):
        se.signatures()


def test_fbnet_metrics_parse_with_every_device() -> None:
    records = parse_fbnet(DATA / "hwnasbench_fbnet_lut" / "fbnet_cached_metrics.json")
    assert len(records) == 225
    kinds = collections.Counter(r.kind for r in records)
    assert kinds == {"ConvBlock": 192, "Skip": 24, "ConvNorm": 4, "FC": 3, "AvgP": 2}
    stem = next(
        r for r in records if r.key == "ConvNorm_H224_W224_Cin3_Cout16_kernel3_stride2_group1"
    )
    assert stem.latency_ms["raspi4"] == pytest.approx(6.20043386798352)
    assert set(stem.latency_ms) == {"edgegpu", "raspi4", "pixel3", "eyeriss", "fpga"}
    block = next(
        r for r in records if r.key.startswith("ConvBlock_H112_W112_Cin16_Cout16_exp1_kernel3")
    )
    # Even an exp1 FBNet block has its 1x1 expand conv: three ops, not MobileNetV1's two.
    assert [s.op for s in fbnet_block_ops(block)] == ["pointwise", "depthwise", "pointwise"]
