"""Rebuild the shipped ARM device tables from the published data in ``latency/tables/data``.

    python -m latency.arm.build_tables            # writes latency/tables/*.json, *.md, results/arm/

Shipped: ``pixel1-tflite-fp32`` (Google Pixel 1 class phone, TFLite fp32, 1 thread), fitted on the
ProxylessNAS-Mobile op profile (plus the depthwise kernel-size differences of the ProxylessNAS
block table) and, for inverted-residual blocks, on that profile's blocks and the ProxylessNAS block
table (`latency.arm.pixel1_ir`), checked against published whole-network latencies; and
``note10-tflite-fp32`` (Samsung Note10, TFLite fp32) from Once-for-All's tables
(`latency.arm.note10`), checked against OFA's own network estimates.
Not shipped: the Raspberry Pi 4 and Pixel 3 (HW-NAS-Bench FBNet blocks; see
`latency.arm.fbnet_check`) and the uint8 MobileNetV1 profile (one network, 3x3 kernels only).
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path
from typing import Any

from latency.arm import render
from latency.arm.blocks import BlockRecord, parse_block_table
from latency.arm.fit import (
    CONV_FEATURES,
    DEPTHWISE_FEATURES,
    Difference,
    LinearFit,
    LooPoint,
    Point,
    error_summary,
    fit_linear,
    leave_one_difference_out,
    leave_one_out,
    unique_points,
)
from latency.arm.ir_model import transfer
from latency.arm.networks import PROXYLESSNAS_MOBILE, proxylessnas_mobile
from latency.arm.note10 import (
    NOTE10_CANNOT_KNOW,
    NOTE10_TRUST,
    NOTE10_WHAT,
    OFA_ACTIVATION,
    build_note10,
    fit_note10,
    held_out_table,
    measured_entries,
    note10_timings,
    render_note10_report,
)
from latency.arm.pixel1_ir import fit_pixel1_blocks
from latency.arm.published import pixel1_published
from latency.arm.tflite import (
    LayerTiming,
    import_tflite_profile,
    match_profile,
    parse_tflite_profile,
)
from latency.arm.trim_copies import (
    COPY_A,
    COPY_B,
    PROFILE_FILE,
    TRIM_FILES,
    copy_agreement,
    proxylessnas_block_keys,
)
from latency.cost_model import input_bytes, output_bytes, weight_bytes
from latency.enumerate import space_signatures
from latency.files import write_json_atomic
from latency.signature import Signature, arch_signatures
from latency.table import Entry, LatencyTable
from space import PRESETS, SearchSpace

PACKAGE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = PACKAGE_DIR / "tables" / "data"
TABLES_DIR = PACKAGE_DIR / "tables"
RESULTS_DIR = PACKAGE_DIR.parent / "results" / "arm"
PIXEL1 = "pixel1-tflite-fp32"
#: The tasks every shipped table enumerates: ImageNet-like and the search's default
#: (Fashion-MNIST), for every preset space.
TASKS = ((3, 1000), (1, 10))


#: Where each copied file comes from (SOURCES.md of the shared data, verified against the files).
SOURCES: dict[str, dict[str, str]] = {
    PROFILE_FILE: {
        "repo": "mit-han-lab/proxylessnas",
        "path": "logs/proxyless_mobile_10_latency.txt",
        "commit": "6f22edade82d114c95305174e775b19641330712",
        "licence": "MIT",
        "what": "exact copy: TFLite benchmark_model --enable_op_profiling output for "
        "ProxylessNAS-Mobile (77 ops, fp32, 1 thread, 100 runs after 10 warm-ups)",
    },
    COPY_A: {
        "repo": "itouchz/Neural-Predictor-Tensorflow",
        "path": "proxylessnas/pixel_trim.yaml",
        "commit": "02335c5",
        "licence": "MIT",
        "what": "exact copy: ProxylessNAS 'mobile_trim' block lookup table (72 entries), the copy "
        "used: its blocks the profile does not time are measured ir entries (on the profile's "
        "scale), its kernel-size differences enter the depthwise fit",
    },
    COPY_B: {
        "repo": "AnissL93/pipe-proxylessnas",
        "path": "search/mobile_trim.yaml",
        "commit": "4414154",
        "licence": "MIT",
        "what": "exact copy: the same table's other published copy (same keys, every value "
        "differs, 8 entries carry extra 'big'/'small' fields); not used: block by block it "
        "agrees with the op profile half as well as copy_a (see the report)",
    },
}

CANNOT_KNOW = [
    "Fusion and graph rewrites: entries are per op as TFLite 2018 ran them (BN and ReLU/ReLU6 "
    "fused into the conv, 'same' padding inside the conv). A runtime that fuses differently, "
    "adds PAD/transpose ops (e.g. a PyTorch->ONNX->TFLite export) or uses other kernels "
    "(XNNPACK, ruy, NNAPI, GPU delegates) has other per-op costs.",
    "Cache effects between layers: each op was timed inside one network, after the op before it; "
    "the model is additive and knows nothing about which activations are still in cache, so a "
    "layer whose neighbours differ from ProxylessNAS-Mobile's may be off by more than the LOO "
    "error.",
    "Shapes outside the measured range are extrapolated: the measured 1x1 convs have at most "
    "1280 output channels and 1152 input channels, the depthwise convs at most 1152 channels "
    "and 112x112 inputs; MobileNetV1's 1024x1024 1x1 conv at 7x7 and any 1-channel stem are "
    "modelled, not measured. Only three measured 1x1 convs have more than 1 MB of weights (about "
    "the phone's L2), while MobileNetV1's 512- and 1024-channel layers have 1-4 MB: the model "
    "predicts MobileNetV1 1.0-224 about 12 % below the published 113 ms, possibly for that reason. "
    "The stem and head kinds have one measured point each: their "
    "models are transfers of the 1x1-conv model (stem) and byte rates (head) calibrated on that "
    "point, with no leave-one-out check possible.",
    "Other devices, thread counts and dtypes: this is one phone's big core, 1 thread, fp32. "
    "Multi-threaded, uint8/int8 or other CPUs scale differently per op kind (the uint8 "
    "MobileNetV1 1.0-224 profile, on a Pixel-2-class big core, takes 79 ms where fp32 on a "
    "Pixel 1 is published at 113 ms).",
    "Run-to-run variance and thermal state: benchmark_model reports a per-op mean over 100 "
    "runs; the two published copies of the ProxylessNAS block table, timed on the same class "
    "of phone, disagree by a median of about 22 % on the same blocks (see the report).",
]


def _round(value: float) -> float:
    return round(value, 6)


def _loo_dict(points: list[LooPoint]) -> dict[str, Any]:
    summary: dict[str, Any] = error_summary([p.error for p in points])
    summary["points"] = [
        {
            "key": p.key,
            "measured_ms": _round(p.measured_ms),
            "predicted_ms": _round(p.predicted_ms),
            "error_pct": round(100 * p.error, 2),
        }
        for p in points
    ]
    return summary


def _head_parts(timing: LayerTiming, ops: dict[int, tuple[str, float]]) -> tuple[float, float]:
    """(classifier ms, pool + flatten ms) of the head layer's ops."""
    classifier = sum(ops[i][1] for i in timing.ops if ops[i][0] in ("CONV_2D", "FULLY_CONNECTED"))
    return classifier, timing.ms - classifier


def kernel_differences(data_dir: Path) -> tuple[list[Difference], dict[str, float]]:
    """Depthwise kernel-size costs from the chosen ProxylessNAS block table, on the profile's scale.

    Two blocks of the table that differ only in depthwise kernel (same input, widths, expansion,
    stride) differ only in their depthwise op: the 1x1 convs and the add are identical and cancel,
    so block(k) - block(3) is a depthwise-only quantity that needs no decomposition. The table is
    another measurement campaign than the profile: its differences are divided by its campaign
    factor (`latency.arm.trim_copies.copy_agreement`).
    """
    agreement = copy_agreement(data_dir)
    name = Path(agreement["chosen"]).stem
    scale = agreement[name]["campaign_scale"]
    groups: dict[tuple[int, ...], dict[int, BlockRecord]] = {}
    for record in parse_block_table(data_dir / agreement["chosen"]):
        if record.op != "expanded_conv":
            continue
        shape = (
            record.in_h,
            record.in_channels,
            record.out_channels,
            record.params["expand"],
            record.params["stride"],
        )
        groups.setdefault(shape, {})[record.params["kernel"]] = record
    # Blocks that differ only in output width share their depthwise pair: one difference each.
    pairs: dict[tuple[Signature, Signature], list[float]] = {}
    for _, by_kernel in sorted(groups.items()):
        base = by_kernel.get(3)
        if base is None:
            continue
        for kernel in sorted(k for k in by_kernel if k != 3):
            # signatures() is [expand?, depthwise, project]: the depthwise op is second last.
            pair = (by_kernel[kernel].signatures()[-2], base.signatures()[-2])
            pairs.setdefault(pair, []).append((by_kernel[kernel].mean_ms - base.mean_ms) / scale)
    differences = [(a, b, statistics.fmean(v)) for (a, b), v in pairs.items()]
    return differences, {name: scale}


# Over 80 lines on purpose: the fit's steps (parse, match, fit per op kind, kernel differences)
# in the order the provenance and report describe them.
def fit_pixel1(data_dir: Path = DATA_DIR) -> dict[str, Any]:
    """Fit the Pixel-1 cost models on the ProxylessNAS-Mobile profile (all the table needs)."""
    profile_path = data_dir / PROFILE_FILE
    profile = parse_tflite_profile(profile_path)
    timings = match_profile(profile, proxylessnas_mobile())
    ops = {op.index: (op.node_type, op.avg_ms) for op in profile.ops}
    layers: list[Point] = [(t.signature, t.ms) for t in timings if t.signature is not None]
    depthwise = unique_points([p for p in layers if p[0].op == "depthwise"])
    pointwise = unique_points([p for p in layers if p[0].op == "pointwise"])
    ((stem_sig, stem_ms),) = [p for p in layers if p[0].op == "stem"]
    head_timing = next(t for t in timings if t.signature is not None and t.signature.op == "head")
    head_sig = head_timing.signature
    assert head_sig is not None  # narrowed by the filter above
    classifier_ms, pool_ms = _head_parts(head_timing, ops)

    if profile.total_ms is None:
        raise ValueError(f"{profile_path} states no whole-network time")
    differences, campaign_scales = kernel_differences(data_dir)
    dw_fit = fit_linear(depthwise, DEPTHWISE_FEATURES, differences)
    dw_ops_only = fit_linear(depthwise, DEPTHWISE_FEATURES)
    pw_fit = fit_linear(pointwise, CONV_FEATURES)
    # The stem is the same CONV_2D kernel on an im2col operand: the 1x1-conv model's prediction
    # (its leave-one-out value) calibrated by one factor on the single measured stem.
    stem_uncalibrated = pw_fit.predict(stem_sig)
    stem_fit = pw_fit.scaled(stem_ms / stem_uncalibrated)
    # The head is a pool (streams its input once) and a classifier with one input row, which
    # streams its weights once: two byte rates, each from its one measured op.
    head_fit = LinearFit(
        ("weight_bytes", "input_bytes"),
        (classifier_ms / weight_bytes(head_sig), pool_ms / input_bytes(head_sig)),
    )
    head_uncalibrated = pw_fit.predict(
        Signature(
            "pointwise",
            1,
            1,
            head_sig.in_channels,
            head_sig.out_channels,
            1,
            1,
            head_sig.activation,
            head_sig.dtype,
        )
    )
    # Residual adds are no hwnas op; their byte rate is fitted only to price the whole-network
    # checks of networks that have them (MobileNetV2, the ProxylessNAS blocks).
    add_points = [
        (
            output_bytes(
                next(
                    t2.signature
                    for t2 in timings
                    if t2.layer == t.layer.replace(".add", ".project") and t2.signature
                )
            ),
            t.ms,
        )
        for t in timings
        if t.layer.endswith(".add")
    ]
    add_rate = sum(ms for _, ms in add_points) / sum(b for b, _ in add_points)
    return {
        "profile": profile,
        "timings": timings,
        "fits": {"stem": stem_fit, "depthwise": dw_fit, "pointwise": pw_fit, "head": head_fit},
        "loo": {
            "stem": [LooPoint(stem_sig.key, stem_ms, stem_uncalibrated)],
            "depthwise": leave_one_out(depthwise, DEPTHWISE_FEATURES, differences),
            "kernel_differences": leave_one_difference_out(
                depthwise, DEPTHWISE_FEATURES, differences
            ),
            "pointwise": leave_one_out(pointwise, CONV_FEATURES),
            "head": [LooPoint(head_sig.key, head_timing.ms, head_uncalibrated)],
        },
        "add_rate_ms_per_byte": add_rate,
        "campaign_scales": campaign_scales,
        "depthwise_ops_only": {
            "loo": leave_one_out(depthwise, DEPTHWISE_FEATURES),
            "kernel_differences": [
                LooPoint(f"{a.key} - {b.key}", ms, dw_ops_only.predict(a) - dw_ops_only.predict(b))
                for a, b, ms in differences
            ],
        },
        "counts": {
            "depthwise": len(depthwise),
            "kernel_differences": len(differences),
            "pointwise": len(pointwise),
            "stem": 1,
            "head": 1,
        },
    }


def _model_ms(fits: dict[str, LinearFit], signature: Signature) -> float:
    return fits[signature.op].predict(signature)


# Over 80 lines on purpose: one block per check of the table (leave-one-out per op kind, block
# tables, published networks), each short, in the order the report presents them.
def pixel1_report(
    table: LatencyTable, fitted: dict[str, Any], blocks_fit: dict[str, Any], data_dir: Path
) -> dict[str, Any]:
    """The Pixel-1 table's validation report (deterministic; stored in the table)."""
    fits: dict[str, LinearFit] = fitted["fits"]
    profile = fitted["profile"]
    timings: list[LayerTiming] = fitted["timings"]
    loo = fitted["loo"]
    loo_by_key = {p.key: p.predicted_ms for kind in loo for p in loo[kind]}

    excluded_ms = sum(t.ms for t in timings if t.signature is None)
    model_sum = excluded_ms + sum(_model_ms(fits, t.signature) for t in timings if t.signature)
    loo_sum = excluded_ms + sum(loo_by_key[t.signature.key] for t in timings if t.signature)
    total = profile.total_ms
    whole = {
        "network": PROXYLESSNAS_MOBILE,
        "measured_total_ms": total,
        "benchmark_avg_ms": profile.benchmark_avg_ms,
        "measured_op_sum_ms": _round(profile.op_sum_ms),
        "measured_op_sum_error_pct": round(100 * (profile.op_sum_ms - total) / total, 2),
        "model_sum_ms": _round(model_sum),
        "model_sum_error_pct": round(100 * (model_sum - total) / total, 2),
        "loo_sum_ms": _round(loo_sum),
        "loo_sum_error_pct": round(100 * (loo_sum - total) / total, 2),
        "note": "model sums price every conv, depthwise and head layer by the cost model "
        "(fitted on all ops, or leave-one-out) and add the measured residual ADDs "
        f"({excluded_ms:.3f} ms) and reshape, which no hwnas layer has",
    }

    add_rate = fitted["add_rate_ms_per_byte"]

    def block_ms(record: BlockRecord) -> float:
        signatures = record.signatures()
        ms = sum(_model_ms(fits, s) for s in signatures)
        if record.residual:
            ms += add_rate * output_bytes(signatures[-1])
        return ms

    blocks: dict[str, Any] = {}
    for name in TRIM_FILES:
        records = parse_block_table(data_dir / name)
        errors = [(block_ms(r) - r.mean_ms) / r.mean_ms for r in records]
        by_key = {r.key: r for r in records}
        network_sum = sum(by_key[key].mean_ms for key in proxylessnas_block_keys())
        blocks[Path(name).stem] = {
            **error_summary(errors),
            "proxylessnas_mobile_block_sum_ms": _round(network_sum),
            "proxylessnas_mobile_block_sum_vs_profile_pct": round(
                100 * (network_sum - total) / total, 2
            ),
        }
    copies = [{r.key: r.mean_ms for r in parse_block_table(data_dir / n)} for n in TRIM_FILES]
    blocks["copy_b_vs_copy_a"] = error_summary(
        [(copies[1][k] - copies[0][k]) / copies[0][k] for k in copies[0]]
    )
    blocks["note"] = (
        "cost-model sum of each block's ops (plus a residual add at the profile's byte rate) vs "
        "the block table's mean; the two published copies of the table disagree with each other "
        "(copy_b_vs_copy_a), which bounds how well any op model can agree with them"
    )

    loo_report: dict[str, Any] = {
        "depthwise": {
            "check": "leave-one-out over the measured ops; the kernel differences stay in the fit",
            **_loo_dict(loo["depthwise"]),
        },
        "pointwise": {"check": "leave-one-out", **_loo_dict(loo["pointwise"])},
        "depthwise_kernel_differences": {
            "check": "leave-one-difference-out: block(k) - block(3) of the ProxylessNAS block "
            "tables, rescaled to the profile's campaign",
            "campaign_scales": fitted["campaign_scales"],
            **_loo_dict(loo["kernel_differences"]),
        },
    }
    ops_only = fitted["depthwise_ops_only"]
    loo_report["depthwise_without_kernel_differences"] = {
        "check": "the alternative not shipped: depthwise fitted on the measured ops alone",
        "loo": error_summary([p.error for p in ops_only["loo"]]),
        "kernel_differences": error_summary([p.error for p in ops_only["kernel_differences"]]),
        "why_not": "it underprices larger depthwise kernels against both block tables, and "
        "kernel size is a choice the search makes in every stage",
    }
    loo_report["stem"] = {
        "check": "n=1, no leave-one-out possible; transfer: the pointwise model without the "
        "calibration factor the one stem provides",
        **_loo_dict(loo["stem"]),
    }
    (head,) = loo["head"]
    loo_report["head"] = {
        "check": "n=1, no held-out check possible: the one measured head gives both byte rates",
        "n": 1,
        "pointwise_model_on_classifier_error_pct": round(100 * head.error, 2),
        "why_not_the_pointwise_model": "a one-row classifier streams its weights once, unlike a "
        "1x1 conv that reuses them over pixels; the pointwise model misprices it by the figure "
        "above",
    }
    loo_report["note"] = (
        "leave-one-out over distinct measured signatures: repeated identical layers are averaged "
        "first, so a left-out op never has its twin in the fit"
    )
    return {
        "targets": {
            "median_loo_error_pct_per_op_kind": 15.0,
            "proxylessnas_mobile_op_sum_error_pct": 5.0,
        },
        "leave_one_out": loo_report,
        "whole_network": whole,
        "block_tables": blocks,
        "inverted_residual_blocks": _ir_report(blocks_fit),
        "published_networks": _published_report(table, blocks_fit, total),
        "cannot_know": CANNOT_KNOW,
    }


def _ir_report(blocks_fit: dict[str, Any]) -> dict[str, Any]:
    """The ir part of the Pixel-1 report: which copy, which blocks, held-out errors, transfer."""
    agreement = blocks_fit["choice"]["agreement"]
    low, high = blocks_fit["speed_ratio_p10_p90"]
    measured = blocks_fit["measured"]
    return {
        "mobile_trim_copies": {
            "check": "each copy against the op profile's per-block sums of the 23 keys both "
            "time (stem, 20 blocks with their ADD, Conv_1, pool + classifier); campaign_scale: "
            "the copy's sum over the 20 blocks / the profile's",
            "chosen": agreement["chosen"],
            **{
                name: {k: v for k, v in agreement[name].items() if k != "ms"}
                for name in ("mobile_trim_copy_a", "mobile_trim_copy_b")
            },
            "profile_sum_ms": agreement["profile_sum_ms"],
        },
        "measured_blocks": {
            source: sum(m.source == source for m in measured)
            for source in sorted({m.source for m in measured})
        },
        "leave_one_out": {
            "check": "one measured block held out at a time (each configuration occurs at one "
            "input size), per block type",
            "by_type": blocks_fit["loo"],
        },
        "se_hswish_transfer": {
            "check": "none possible: no squeeze-and-excite or h-swish block was measured on this "
            "phone; their coefficients are the Note10 block model's times the median ratio of "
            "the Pixel-1 measured blocks to the Note10 model's prediction of them",
            "speed_ratio_vs_note10": round(blocks_fit["speed_ratio_vs_note10"], 4),
            "speed_ratio_p10": round(low, 4),
            "speed_ratio_p90": round(high, 4),
        },
    }


def _published_report(
    table: LatencyTable, blocks_fit: dict[str, Any], profile_total_ms: float
) -> list[dict[str, Any]]:
    """Published whole networks priced by the table as a search prices a candidate, and with
    every measured ir block replaced by its held-out prediction."""
    held = held_out_table(table, {p.key: p.predicted_ms for p in blocks_fit["held_out"]})
    rows = []
    for item in pixel1_published(profile_total_ms):
        signatures = arch_signatures(item.arch, table.activation, table.dtype)
        measured = sum(table.entries[s.key].source == "measured" for s in signatures
                       if s.key in table.entries)  # fmt: skip
        ms = table.predict(item.arch)
        held_ms = held.predict(item.arch)
        rows.append(
            {
                "network": item.name,
                "published_ms": round(item.ms, 3),
                "table_ms": round(ms, 2),
                "error_pct": round(100 * (ms - item.ms) / item.ms, 2),
                "held_out_blocks_ms": round(held_ms, 2),
                "held_out_blocks_error_pct": round(100 * (held_ms - item.ms) / item.ms, 2),
                "signatures": len(signatures),
                "measured_signatures": measured,
                "source": item.source,
            }
        )
    return rows


# Over 80 lines on purpose: the table's provenance and cost-model description are written out
# here in full, next to the code that produces them.
def build_pixel1(data_dir: Path = DATA_DIR) -> LatencyTable:
    """The shipped Pixel-1 table: measured entries, modelled entries, cost model, report."""
    fitted = fit_pixel1(data_dir)
    fits: dict[str, LinearFit] = dict(fitted["fits"])
    note10_blocks = fit_note10(measured_entries(note10_timings(data_dir))).models["ir"]
    blocks_fit = fit_pixel1_blocks(data_dir, note10_blocks)
    ratio = blocks_fit["speed_ratio_vs_note10"]
    # h-swish after a stem or 1x1 conv (MobileNetV3's) was never measured here either.
    for kind in ("stem", "depthwise", "pointwise"):
        fits[kind] = transfer(fits[kind], note10_blocks, ("hswish_elements",), ratio)
    fits["ir"] = blocks_fit["model"]
    table = import_tflite_profile(data_dir / PROFILE_FILE, network=PROXYLESSNAS_MOBILE, name=PIXEL1)
    for block in blocks_fit["measured"]:
        ms = _round(block.ms)
        table.entries[block.signature.key] = Entry(ms, ms, 0.0, block.runs, "measured")
    coverage = add_modelled_entries(table, fits)
    counts = fitted["counts"]
    table.device = {
        "name": PIXEL1,
        "cpu": "Android phone, most likely a Google Pixel 1 (Snapdragon 821, one big Kryo core); "
        "the log does not name it, the ProxylessNAS paper measures on a Pixel 1",
        "arch": "aarch64",
        "os": "Android",
        "runtime": "TFLite (2018) benchmark_model, fp32, no NNAPI",
        "threads": 1,
        "batch": 1,
        "dtype": "fp32",
    }
    table.protocol = {
        **table.protocol,
        "measured_by": "the ProxylessNAS authors (published log), not by hwnas",
        "input": "1x224x224x3 float",
    }
    table.network_overhead_ms = 0.0
    table.provenance = {
        "summary": "measured entries: every layer of ProxylessNAS-Mobile's TFLite op profile, "
        "shapes recovered from the published architecture and matched op by op in run order, "
        "its blocks (the sum of their ops) and the other blocks of ProxylessNAS's mobile_trim "
        "table (copy_a, on the profile's scale); modelled entries: every other signature of the "
        "v1, v2 and v3 presets (3 channels/1000 classes and 1 channel/10 classes) priced by the "
        "cost model",
        "network": PROXYLESSNAS_MOBILE,
        "network_definition": proxylessnas_mobile().citation,
        "activation": "keys say relu6 (the profiled network's); TFLite fuses ReLU and ReLU6 into "
        "the conv, so an hwnas ReLU network costs the same",
        "sources": [
            {"file": f"latency/tables/data/{name}", **meta} for name, meta in SOURCES.items()
        ],
        "measured_layers": table.provenance["layers"] if table.provenance else [],
        "excluded_ops": table.provenance["excluded_ops"] if table.provenance else [],
        "profile_total_ms": fitted["profile"].total_ms,
        "benchmark_avg_ms": fitted["profile"].benchmark_avg_ms,
        "space": "SearchSpace.preset(v1, v2, v3), each also .with_task(1, 10)",
        "measured_blocks": [
            {
                "key": block.signature.key,
                "published_key": block.key,
                "source": block.source,
                "published_ms": _round(block.published_ms),
                "ms": _round(block.ms),
            }
            for block in blocks_fit["measured"]
        ],
        "campaign_scale": blocks_fit["choice"]["campaign_scale"],
    }
    table.cost_model = {
        "form": "per op kind: latency_ms = sum(coefficient * feature(signature)); features as in "
        "latency.cost_model.FEATURES, raw units (MACs, bytes at the dtype, 1)",
        "per_op": {kind: fit.to_dict() for kind, fit in fits.items()},
        "fitted_on": {
            "depthwise": f"{counts['depthwise']} distinct measured depthwise convs and "
            f"{counts['kernel_differences']} kernel-size differences (block with kernel 5 or 7 "
            "minus the same block with kernel 3, ProxylessNAS block tables, rescaled to the "
            "profile's campaign); non-negative least squares on relative error",
            "pointwise": f"{counts['pointwise']} distinct measured 1x1 convs; non-negative least "
            "squares on relative error",
            "stem": "the pointwise model (GEMM on the im2col operand) times one factor fitted on "
            "the single measured stem (224x224x3 -> 32)",
            "head": "classifier: its measured time per weight byte (a one-row GEMM streams its "
            "weights once); pool: its measured time per input byte; one measured head",
            "ir": f"{len(blocks_fit['measured'])} measured blocks (the profile's and copy_a's, "
            "see measured_blocks); non-negative least squares on relative error; squeeze-and-"
            "excite and h-swish coefficients: the Note10 block model's times the speed ratio "
            f"{ratio:.3f} (no such block was measured on this phone)",
            "hswish": "stem, depthwise and pointwise layers with h-swish add the Note10 "
            "h-swish cost per element times the same ratio",
        },
    }
    table.provenance["coverage"] = coverage
    table.report = pixel1_report(table, fitted, blocks_fit, data_dir)
    return table


def shipped_signatures(activation: str, dtype: str) -> dict[tuple[str, int, int], list[Signature]]:
    """Every signature of every preset space at every shipped task, keyed (preset, ch, classes)."""
    found = {}
    for preset in PRESETS:
        space = SearchSpace.preset(preset)
        for channels, classes in TASKS:
            task = space.with_task(channels, classes)
            found[(preset, channels, classes)] = space_signatures(task, activation, dtype)
    return found


def add_modelled_entries(table: LatencyTable, fits: dict[str, LinearFit]) -> list[dict[str, Any]]:
    """Price every preset signature the table has not measured; return the coverage per preset
    and task (signatures, how many measured)."""
    coverage = []
    for (preset, channels, classes), signatures in shipped_signatures(
        table.activation, table.dtype
    ).items():
        for signature in signatures:
            if signature.key not in table.entries:
                ms = _round(fits[signature.op].predict(signature))
                table.entries[signature.key] = Entry(ms, ms, 0.0, 0, "modelled")
        measured = [s.key for s in signatures if table.entries[s.key].source == "measured"]
        coverage.append(
            {
                "preset": preset,
                "in_channels": channels,
                "num_classes": classes,
                "signatures": len(signatures),
                "measured": len(measured),
            }
        )
    return coverage


def render_report(table: LatencyTable) -> str:
    """A plain-text summary of a table's report (for results/arm and the closing note)."""
    report = table.report or {}
    lines = [
        f"table {table.device_name}: {len(table.entries)} entries "
        f"({sum(e.source == 'measured' for e in table.entries.values())} measured)"
    ]
    lines += render.coverage_lines(table)
    lines.append("leave-one-out error per op kind (|error| %, distinct signatures):")
    for kind in ("stem", "depthwise", "pointwise", "head"):
        item = report["leave_one_out"][kind]
        if "median_abs_pct" not in item:
            lines.append(f"  {kind:9s} n={item['n']:2d}  {item['check']}")
            continue
        lines.append(
            f"  {kind:9s} n={item['n']:2d}  median {item['median_abs_pct']:6.2f}  "
            f"mean {item['mean_abs_pct']:6.2f}  max {item['max_abs_pct']:6.2f}  "
            f"median bias {item['median_bias_pct']:+6.2f}  ({item['check'].split(';')[0]})"
        )
    kernel = report["leave_one_out"]["depthwise_kernel_differences"]
    lines.append(
        f"  kernel-size differences n={kernel['n']}: median {kernel['median_abs_pct']:.2f}  "
        f"max {kernel['max_abs_pct']:.2f}  median bias {kernel['median_bias_pct']:+.2f} "
        "(leave-one-difference-out)"
    )
    alternative = report["leave_one_out"]["depthwise_without_kernel_differences"]
    lines.append(
        "  not shipped, depthwise fitted on ops alone: op LOO median "
        f"{alternative['loo']['median_abs_pct']:.2f}, kernel-size differences median bias "
        f"{alternative['kernel_differences']['median_bias_pct']:+.2f}"
    )
    whole = report["whole_network"]
    lines.append(
        f"ProxylessNAS-Mobile: measured total {whole['measured_total_ms']:.3f} ms "
        f"(benchmark avg {whole['benchmark_avg_ms']:.3f}); "
        f"op sum {whole['measured_op_sum_ms']:.3f} "
        f"({whole['measured_op_sum_error_pct']:+.2f} %); model sum {whole['model_sum_ms']:.3f} "
        f"({whole['model_sum_error_pct']:+.2f} %); leave-one-out sum {whole['loo_sum_ms']:.3f} "
        f"({whole['loo_sum_error_pct']:+.2f} %)"
    )
    for name, item in report["block_tables"].items():
        if not name.startswith("mobile_trim"):
            continue
        lines.append(
            f"block table {name}: n={item['n']} median |error| {item['median_abs_pct']:.2f} % "
            f"(bias {item['median_bias_pct']:+.2f} %, max {item['max_abs_pct']:.2f} %); "
            f"ProxylessNAS-Mobile block sum {item['proxylessnas_mobile_block_sum_ms']:.2f} ms "
            f"({item['proxylessnas_mobile_block_sum_vs_profile_pct']:+.2f} % vs the profile)"
        )
    copies = report["block_tables"]["copy_b_vs_copy_a"]
    lines.append(
        f"the two block-table copies differ by a median {copies['median_abs_pct']:.2f} % "
        f"(max {copies['max_abs_pct']:.2f} %) on the same keys"
    )
    ir = report["inverted_residual_blocks"]
    copies = ir["mobile_trim_copies"]
    for name in ("mobile_trim_copy_a", "mobile_trim_copy_b"):
        item = copies[name]
        lines.append(
            f"{name} vs the profile, same 23 keys: median |error| {item['median_abs_pct']:.2f} % "
            f"({item['after_campaign_scale_median_abs_pct']:.2f} % after its campaign factor "
            f"{item['campaign_scale']:.3f}), Kendall tau {item['kendall_tau']:.3f}, "
            f"ProxylessNAS-Mobile sum {item['proxylessnas_mobile_sum_ms']:.2f} ms"
        )
    lines.append(f"used: {copies['chosen']}; measured ir blocks: {ir['measured_blocks']}")
    lines.append("ir blocks held out one at a time (|error| %):")
    lines += [render.summary_line(k, v) for k, v in ir["leave_one_out"]["by_type"].items()]
    transfer_ = ir["se_hswish_transfer"]
    lines.append(
        "SE and h-swish: not measured here, Note10 costs x "
        f"{transfer_['speed_ratio_vs_note10']:.2f} (Pixel-1 / Note10 on the measured blocks, "
        f"p10 {transfer_['speed_ratio_p10']:.2f}, p90 {transfer_['speed_ratio_p90']:.2f}); "
        "unchecked"
    )
    for item in report["published_networks"]:
        lines.append(
            f"published {item['network']}: {item['published_ms']:.1f} ms, table "
            f"{item['table_ms']:.1f} ms ({item['error_pct']:+.1f} %), with ir blocks held out "
            f"{item['held_out_blocks_ms']:.1f} ms ({item['held_out_blocks_error_pct']:+.1f} %); "
            f"{item['measured_signatures']}/{item['signatures']} signatures measured"
        )
    return "\n".join(lines)


PIXEL1_WHAT = (
    "Measured: every layer of ProxylessNAS-Mobile's published TFLite op profile (shapes from the "
    "published architecture), its 14 distinct inverted-residual blocks (the sum of their ops) and "
    "55 more blocks of ProxylessNAS's mobile_trim table (copy_a, on the profile's scale). "
    "Modelled: every other signature of the v1, v2 and v3 presets for 3 channels/1000 classes and "
    "1 channel/10 classes."
)
PIXEL1_TRUST = (
    "Trust it for ranking architectures and for budgets with a margin of ~15-20 % on a "
    "Pixel-1-class phone with TFLite fp32 on one thread: MobileNetV1-style layers and "
    "MobileNetV2-style blocks (ReLU/ReLU6, no squeeze-and-excite) are fitted on this phone's "
    "measurements. Squeeze-and-excite and h-swish (the v3 preset) were never measured on it: "
    "their cost is the Note10's scaled by one speed ratio, so use v3 results on this table for "
    "ranking only, or measure."
)


def main(argv: list[str] | None = None) -> int:
    """Rebuild every shipped ARM table and write the reports."""
    del argv
    from latency.arm.fbnet_check import fbnet_report, render_fbnet
    from latency.arm.plots import plot_leave_one_out

    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    shipped = [
        (build_pixel1(), render_report, PIXEL1_WHAT, CANNOT_KNOW, PIXEL1_TRUST),
        (build_note10_table(), render_note10_report, NOTE10_WHAT, NOTE10_CANNOT_KNOW, NOTE10_TRUST),
    ]
    texts = []
    for table, report_text, what, cannot_know, trust in shipped:
        name = table.device_name
        text = report_text(table)
        texts.append(text)
        table.save(TABLES_DIR / f"{name}.json")
        markdown = render.render_markdown(
            table, what=what, report=text, cannot_know=cannot_know, trust=trust
        )
        (TABLES_DIR / f"{name}.md").write_text(markdown)
        write_json_atomic(RESULTS_DIR / f"{name}_report.json", table.report)
    plot_leave_one_out(
        shipped[0][0].report or {},
        RESULTS_DIR / f"{PIXEL1}_loo.png",
        f"{PIXEL1}: TFLite fp32, 1 thread, published ProxylessNAS measurements",
    )
    fbnet = fbnet_report()
    write_json_atomic(RESULTS_DIR / "fbnet_raspi4_pixel3_check.json", fbnet)
    text = "\n\n".join([*texts, render_fbnet(fbnet)])
    (RESULTS_DIR / "build_tables.txt").write_text(text + "\n")
    sys.stdout.write(text + "\n")
    return 0


def build_note10_table(data_dir: Path = DATA_DIR) -> LatencyTable:
    """The shipped Note10 table, with every preset signature priced and its coverage."""
    signatures = shipped_signatures(OFA_ACTIVATION, "fp32")
    table, _ = build_note10(data_dir, sorted({s for found in signatures.values() for s in found}))
    coverage = []
    for (preset, channels, classes), found in signatures.items():
        measured = sum(table.entries[s.key].source == "measured" for s in found)
        coverage.append(
            {
                "preset": preset,
                "in_channels": channels,
                "num_classes": classes,
                "signatures": len(found),
                "measured": measured,
            }
        )
    assert table.provenance is not None  # set by build_note10
    table.provenance["coverage"] = coverage
    return table


if __name__ == "__main__":
    raise SystemExit(main())
