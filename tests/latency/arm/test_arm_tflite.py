"""TFLite op-profile importer on the real published profiles copied into latency/tables/data."""

from __future__ import annotations

import collections
from pathlib import Path

import pytest

from latency.arm.networks import known_networks, network_definition
from latency.arm.tflite import import_tflite_profile, match_profile, parse_tflite_profile
from latency.signature import arch_signatures
from space import mobilenet_v1

DATA = Path(__file__).resolve().parents[3] / "latency" / "tables" / "data"
PROXYLESS_LOG = DATA / "proxylessnas_tflite_profile_log" / "proxyless_mobile_10_latency.txt"
MOBILENET_CSV = DATA / "tflite_mobilenet_v1_quant_opprofile" / "run_order.csv"


def test_log_parses_every_op_and_the_run_settings() -> None:
    profile = parse_tflite_profile(PROXYLESS_LOG)
    assert len(profile.ops) == 77  # "Number of nodes executed: 77"
    counts = collections.Counter(op.node_type for op in profile.ops)
    assert counts == {
        "CONV_2D": 42,
        "DEPTHWISE_CONV_2D": 20,
        "ADD": 13,
        "AVERAGE_POOL_2D": 1,
        "RESHAPE": 1,
    }
    assert (profile.runs, profile.warmup, profile.threads, profile.dtype) == (100, 10, 1, "fp32")
    assert profile.total_ms == pytest.approx(80.6357)
    assert profile.benchmark_avg_ms == pytest.approx(80.6702)
    # The log's own "Summary by node type" (59.262, 21.048, 0.248 ms) is summed by the tool over
    # slightly different statistics: the rows agree with it within 0.05 %.
    by_type: dict[str, float] = collections.defaultdict(float)
    for op in profile.ops:
        by_type[op.node_type] += op.avg_ms
    assert by_type["CONV_2D"] == pytest.approx(59.282)
    assert by_type["CONV_2D"] == pytest.approx(59.262, rel=5e-4)
    assert by_type["DEPTHWISE_CONV_2D"] == pytest.approx(21.048, rel=1e-3)
    assert by_type["ADD"] == pytest.approx(0.248, abs=0.01)
    assert profile.op_sum_ms == pytest.approx(profile.total_ms, rel=1e-3)


def test_csv_parses_the_transcribed_uint8_mobilenet() -> None:
    profile = parse_tflite_profile(MOBILENET_CSV)
    assert len(profile.ops) == 31
    assert profile.file_format == "csv"
    assert profile.ops[0].node_type == "CONV_2D" and profile.ops[-1].node_type == "SOFTMAX"
    assert profile.op_sum_ms == pytest.approx(79.449, abs=1e-6)
    assert profile.total_ms is None and profile.dtype is None


def test_proxylessnas_shapes_recovered_from_the_published_architecture() -> None:
    table = import_tflite_profile(PROXYLESS_LOG, network="proxylessnas-mobile", name="p1")
    entries = table.entries
    assert len(entries) == 37  # 62 layers with signatures, repeats of identical blocks merged
    assert entries["stem_h224_w224_ci3_co32_k3_s2_relu6_fp32"].median_ms == 3.246
    # SOURCES.md: the first block is depthwise 3x3 on 112x112x32 (2.265) then 32->16 (1.548).
    assert entries["depthwise_h112_w112_ci32_co32_k3_s1_relu6_fp32"].median_ms == 2.265
    assert entries["pointwise_h112_w112_ci32_co16_k1_s1_relu6_fp32"].median_ms == 1.548
    # Block 1 (up_3-ks_5-st_2): 16 -> 48 expand at 112, depthwise 5x5 stride 2, 48 -> 24 at 56.
    assert entries["pointwise_h112_w112_ci16_co48_k1_s1_relu6_fp32"].median_ms == 2.723
    assert entries["depthwise_h112_w112_ci48_co48_k5_s2_relu6_fp32"].median_ms == 2.859
    assert entries["pointwise_h56_w56_ci48_co24_k1_s1_relu6_fp32"].median_ms == 0.942
    # Head = pool + 1x1 classifier + reshape.
    assert entries["head_h7_w7_ci1280_co1000_k7_s1_relu6_fp32"].median_ms == pytest.approx(1.518)
    # Blocks 8-10 are identical (up_3-ks_5-st_1, 80 channels at 14x14): three measurements.
    repeated = entries["depthwise_h14_w14_ci240_co240_k5_s1_relu6_fp32"]
    assert repeated.median_ms == 0.524 and repeated.std_ms > 0
    assert all(e.source == "measured" and e.runs == 100 for e in entries.values())
    assert [x["layer"] for x in table.provenance["excluded_ops"]][:2] == ["b2.add", "b4.add"]
    assert len(table.provenance["excluded_ops"]) == 13
    assert table.activation == "relu6" and table.dtype == "fp32"
    assert table.device["threads"] == 1


def test_mobilenet_v1_shapes_from_space_and_from_an_arch_agree() -> None:
    by_name = import_tflite_profile(MOBILENET_CSV, network="mobilenet_v1_1.0_224", dtype="uint8")
    assert len(by_name.entries) == 20
    five = by_name.entries["pointwise_h14_w14_ci512_co512_k1_s1_relu6_uint8"]
    assert five.median_ms == 5.404  # median of the five 14x14 512->512 layers
    head = by_name.entries["head_h7_w7_ci1024_co1000_k7_s1_relu6_uint8"]
    assert head.median_ms == pytest.approx(0.036 + 1.445 + 0.002)
    assert by_name.provenance["excluded_ops"] == [{"layer": "softmax", "ms": 0.029}]

    arch = mobilenet_v1(1.0, 224)
    by_arch = import_tflite_profile(MOBILENET_CSV, arch=arch, dtype="uint8")
    assert set(by_arch.entries) == {s.key for s in arch_signatures(arch, "relu", "uint8")}
    assert [e.median_ms for _, e in sorted(by_arch.entries.items())] == [
        e.median_ms for _, e in sorted(by_name.entries.items())
    ]


def test_profile_of_another_network_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"op 3 \(CONV_2D .*does not match network"):
        import_tflite_profile(PROXYLESS_LOG, network="mobilenet_v1_1.0_224")
    with pytest.raises(ValueError, match="does not match network 'proxylessnas-mobile'"):
        import_tflite_profile(MOBILENET_CSV, network="proxylessnas-mobile")


def test_truncated_extra_and_relabelled_profiles_are_rejected(tmp_path: Path) -> None:
    lines = MOBILENET_CSV.read_text().splitlines()
    short = tmp_path / "short.csv"
    short.write_text("\n".join(lines[:-4]) + "\n")
    with pytest.raises(ValueError, match=r"profile ends after 27 ops .* layer head"):
        import_tflite_profile(short, network="mobilenet_v1_1.0_224")
    extra = tmp_path / "extra.csv"
    extra.write_text("\n".join([*lines, "CONV_2D,80.0,1.0,1.0,extra"]) + "\n")
    with pytest.raises(ValueError, match="comes after the last layer"):
        import_tflite_profile(extra, network="mobilenet_v1_1.0_224")
    relabelled = tmp_path / "relabelled.txt"
    relabelled.write_text(
        PROXYLESS_LOG.read_text().replace("expanded_conv_1/up_3-ks_5-st_2", "x/up_6-ks_5-st_2")
    )
    with pytest.raises(ValueError, match=r"is block up_6-ks_5-st_2 but layer b1\.expand"):
        import_tflite_profile(relabelled, network="proxylessnas-mobile")


def test_bad_arguments_and_files_raise_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="exactly one of an arch"):
        import_tflite_profile(PROXYLESS_LOG)
    with pytest.raises(ValueError, match="exactly one of an arch"):
        import_tflite_profile(PROXYLESS_LOG, arch=mobilenet_v1(1.0, 224), network="x")
    with pytest.raises(ValueError, match="unknown network 'resnet50': expected one of "):
        import_tflite_profile(PROXYLESS_LOG, network="resnet50")
    empty = tmp_path / "log.txt"
    empty.write_text("STARTING!\nNum runs: [10]\n")
    with pytest.raises(ValueError, match="has no 'Run Order' table"):
        parse_tflite_profile(empty)
    bad = tmp_path / "bad.csv"
    bad.write_text("node_type,avg_ms,name\nCONV_2D,fast,x\n")
    with pytest.raises(ValueError, match="non-numeric time"):
        parse_tflite_profile(bad)


def test_every_known_network_has_a_definition() -> None:
    names = known_networks()
    assert names[0] == "proxylessnas-mobile" and "mobilenet_v1_0.25_128" in names
    assert len(names) == 17
    for name in names:
        assert network_definition(name).slots


def test_matching_assigns_each_op_once_in_run_order() -> None:
    profile = parse_tflite_profile(PROXYLESS_LOG)
    timings = match_profile(profile, network_definition("proxylessnas-mobile"))
    indices = [i for t in timings for i in t.ops]
    assert sorted(indices) == list(range(77))
    assert sum(t.ms for t in timings) == pytest.approx(profile.op_sum_ms)


# The layout of recent benchmark_model versions: an initialization profile comes first.
HEADER = "\t[node type]\t[first]\t[avg ms]\t[%]\t[cdf%]\t[mem KB]\t[times called]\t[Name]"
NEWER_LOG = (
    "Num runs: [50]\nNum threads: [1]\nProfiling Info for Benchmark Initialization:\n"
    "============================== Run Order ==============================\n"
    f"{HEADER}\n"
    "\tAllocateTensors\t0.143\t0.143\t100.000%\t100.000%\t0.000\t1\tAllocateTensors/0\n\n"
    "Operator-wise Profiling Info for Regular Benchmark Runs:\n"
    "============================== Run Order ==============================\n"
    f"{HEADER}\n{{rows}}\n"
)


def test_newer_log_format_skips_the_initialization_profile(tmp_path: Path) -> None:
    arch = mobilenet_v1(0.25, 128, num_classes=10, in_channels=1)
    ops = ["PAD", "CONV_2D"]
    for _ in range(13):
        ops += ["DEPTHWISE_CONV_2D", "CONV_2D"]
    ops += ["MEAN", "FULLY_CONNECTED"]
    rows = "\n".join(
        f"\t{op}\t0.1\t{0.1 + i / 1000:.3f}\t1%\t1%\t0.0\t1\t[layer {i}]"
        for i, op in enumerate(ops)
    )
    path = tmp_path / "own.txt"
    path.write_text(NEWER_LOG.format(rows=rows))
    table = import_tflite_profile(path, arch=arch, name="my-phone")
    assert table.device["name"] == "my-phone" and table.protocol["runs"] == 50
    stem = next(k for k in table.entries if k.startswith("stem"))
    assert stem == "stem_h128_w128_ci1_co8_k3_s2_relu_fp32"
    assert table.entries[stem].median_ms == pytest.approx(0.1 + 0.101)  # PAD + conv
    head = next(k for k in table.entries if k.startswith("head"))
    assert table.entries[head].median_ms == pytest.approx(0.128 + 0.129)  # MEAN + classifier


def test_delegated_profile_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "xnnpack.txt"
    path.write_text(
        NEWER_LOG.format(rows="\tTfLiteXNNPackDelegate\t5.0\t5.0\t100%\t100%\t0\t1\t[d]")
    )
    with pytest.raises(ValueError, match=r"ran through a delegate .*--use_xnnpack=false"):
        parse_tflite_profile(path)
