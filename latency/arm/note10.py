"""The shipped Samsung Note10 table (TFLite fp32), from Once-for-All's lookup tables.

OFA times its MobileNetV3 space (width 1.2) at 17 input resolutions, 96 entries each: the stem,
91 inverted-residual blocks, the final 1x1 conv, and the pool, 1x1 on the pooled vector and
classifier, which hwnas keys as one ``head`` (pool, hidden layer, classifier). Every entry is a
`measured` table entry (a signature timed at several resolutions keeps the median of its times);
every other signature of the V1, V2 and V3 presets is `modelled`:

* ``ir`` blocks by the block model of `latency.arm.ir_model`, fitted on all measured blocks;
* ``pointwise`` and ``depthwise`` layers (MobileNetV1 blocks, head convs) by the block model's
  expansion and depthwise terms, checked against the three measured final 1x1 convs;
* the ``stem`` by the pointwise terms times one factor fitted on the 17 measured stems;
* the ``head`` by a byte rate for its weights and one for the feature map it pools.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from latency.arm import render
from latency.arm.blocks import BlockRecord
from latency.arm.fit import LinearFit, Point, error_summary, fit_linear
from latency.arm.ir_model import (
    IR_FEATURES,
    configuration,
    leave_group_out,
    per_type,
)
from latency.arm.ofa import (
    OFA_CITATION,
    OFA_RESOLUTIONS,
    OfaSubnet,
    load_note10,
    note10_file,
    ofa_arch_string,
    ofa_keys,
)
from latency.signature import Signature
from latency.table import Entry, LatencyTable
from space import Arch

NOTE10 = "note10-tflite-fp32"
#: OFA's MobileNetV3 stages without h-swish use ReLU (``act_stages`` of OFAMobileNetV3).
OFA_ACTIVATION = "relu"
#: OFA's stem, final 1x1 and feature-mix layers use h-swish.
OFA_HEAD_ACTIVATION = "hswish"
#: The entries hwnas keys as one ``head``: pool, hidden 1x1 on the pooled vector, classifier.
HEAD_PARTS = ("AvgPool2D", "Conv_2", "Logits")
#: Pointwise and depthwise layers priced by the block model's terms of the same op.
DECOMPOSITION = {
    "pointwise": {
        "tflite_ops": "tflite_ops",
        "macs": "expand_macs",
        "output_bytes": "expand_output_bytes",
        "weight_bytes": "weight_bytes",
        "hswish_elements": "hswish_elements",
    },
    "depthwise": {
        "tflite_ops": "tflite_ops",
        "macs": "depthwise_macs",
        "input_bytes": "depthwise_input_bytes",
        "output_bytes": "depthwise_output_bytes",
        "weight_bytes": "weight_bytes",
        "hswish_elements": "hswish_elements",
    },
}
HEAD_FEATURES = ("weight_bytes", "input_bytes")
SOURCE = {
    "repo": "mit-han-lab/once-for-all",
    "path": "tutorial/checkpoints/latency_table@note10/<R>_lookup_table.yaml, R = 160 ... 224",
    "commit": "698a5c10b434172056a565b340c46ce11df18629",
    "licence": "Apache-2.0",
    "what": "exact copies: OFA's Note10 lookup tables, 17 resolutions x 96 entries "
    "{count, mean, std}; every entry is a measured table entry",
}
#: Seeds and sizes of the whole-network checks (OFA subnets drawn as OFA's evolution draws).
NETWORK_SEED = 0
SUBNETS_PER_RESOLUTION = 20


@dataclass(frozen=True)
class Timing:
    """One measured entry of one resolution's table, keyed by its hwnas signature."""

    signature: Signature
    resolution: int
    ms: float
    std_ms: float
    count: int
    keys: tuple[str, ...]


def _conv_signature(record: BlockRecord) -> Signature:
    if record.op == "Conv":
        return Signature(
            "stem",
            record.in_h,
            record.in_w,
            record.in_channels,
            record.out_channels,
            3,
            record.in_h // record.out_h,
            OFA_HEAD_ACTIVATION,
        )
    return Signature(
        "pointwise",
        record.in_h,
        record.in_w,
        record.in_channels,
        record.out_channels,
        1,
        1,
        OFA_HEAD_ACTIVATION,
    )


def note10_timings(data_dir: Path) -> list[Timing]:
    """Every entry of every copied table as hwnas signatures (the head's three parts summed)."""
    timings = []
    for resolution, records in load_note10(data_dir).items():
        by_op = {r.op: r for r in records if not r.op.startswith("expanded_conv")}
        for record in records:
            if record.op == "expanded_conv":
                signature = record.block_signature(OFA_ACTIVATION)
            elif record.op in ("Conv", "Conv_1"):
                signature = _conv_signature(record)
            else:
                continue
            timings.append(
                Timing(
                    signature,
                    resolution,
                    record.mean_ms,
                    record.std_ms,
                    record.count,
                    (record.key,),
                )
            )
        pool, mix, logits = (by_op[op] for op in HEAD_PARTS)
        head = Signature(
            "head",
            pool.in_h,
            pool.in_w,
            pool.in_channels,
            logits.out_channels,
            pool.in_h,
            1,
            OFA_HEAD_ACTIVATION,
            mid_channels=mix.out_channels,
        )
        parts = (pool, mix, logits)
        timings.append(
            Timing(
                head,
                resolution,
                sum(p.mean_ms for p in parts),
                sum(p.std_ms**2 for p in parts) ** 0.5,
                min(p.count for p in parts),
                tuple(p.key for p in parts),
            )
        )
    return timings


def measured_entries(timings: list[Timing]) -> dict[Signature, Entry]:
    """One entry per signature: the median of the resolutions that timed it."""
    grouped: dict[Signature, list[Timing]] = {}
    for timing in timings:
        grouped.setdefault(timing.signature, []).append(timing)
    entries = {}
    for signature, repeats in grouped.items():
        times = [t.ms for t in repeats]
        spread = statistics.pstdev(times) if len(times) > 1 else repeats[0].std_ms
        entries[signature] = Entry(
            median_ms=round(statistics.median(times), 6),
            mean_ms=round(statistics.fmean(times), 6),
            std_ms=round(spread, 6),
            runs=sum(t.count for t in repeats),
            source="measured",
        )
    return entries


def decomposed(block_model: LinearFit, kind: str) -> LinearFit:
    """A pointwise or depthwise model made of the block model's terms of that op."""
    names = DECOMPOSITION[kind]
    return LinearFit(tuple(names), tuple(block_model.coefficient(names[f]) for f in names))


@dataclass(frozen=True)
class Note10Fit:
    """The Note10 cost models and the points they were fitted on."""

    models: dict[str, LinearFit]
    blocks: list[Point]
    stems: list[Point]
    heads: list[Point]
    pointwise: list[Point]
    stem_ratios: list[float]


def fit_note10(entries: dict[Signature, Entry]) -> Note10Fit:
    """Per-kind cost models from the measured entries (medians over resolutions)."""

    def points(op: str) -> list[Point]:
        return [(s, e.median_ms) for s, e in sorted(entries.items()) if s.op == op]

    blocks = points("ir")
    block_model = fit_linear(blocks, IR_FEATURES)
    pointwise = decomposed(block_model, "pointwise")
    stems = points("stem")
    stem_ratios = [ms / pointwise.predict(s) for s, ms in stems]
    heads = points("head")
    models = {
        "ir": block_model,
        "pointwise": pointwise,
        "depthwise": decomposed(block_model, "depthwise"),
        "stem": pointwise.scaled(statistics.median(stem_ratios)),
        "head": fit_linear(heads, HEAD_FEATURES),
    }
    return Note10Fit(models, blocks, stems, heads, points("pointwise"), stem_ratios)


def sample_subnets(resolution: int, count: int, seed: int) -> list[OfaSubnet]:
    """``count`` random subnets of OFA's space at ``resolution`` (as OFA's evolution samples)."""
    rng = np.random.default_rng(seed)
    return [
        OfaSubnet(
            resolution,
            tuple(int(d) for d in rng.choice((2, 3, 4), size=5)),
            tuple(int(k) for k in rng.choice((3, 5, 7), size=20)),
            tuple(int(e) for e in rng.choice((3, 4, 6), size=20)),
        )
        for _ in range(count)
    ]


def held_out_table(table: LatencyTable, held: dict[str, float]) -> LatencyTable:
    """``table`` with its measured blocks replaced by held-out predictions."""
    entries = {
        key: Entry(held[key], held[key], 0.0, 0, "modelled") if key in held else entry
        for key, entry in table.entries.items()
    }
    return LatencyTable(
        device=table.device,
        protocol=table.protocol,
        entries=entries,
        cost_model=table.cost_model,
        activation=table.activation,
        dtype=table.dtype,
    )


def note10_report(table: LatencyTable, fitted: Note10Fit, data_dir: Path) -> dict[str, Any]:
    """The Note10 table's validation report (deterministic)."""
    by_configuration = leave_group_out(fitted.blocks, IR_FEATURES, configuration)
    by_shape = leave_group_out(fitted.blocks, IR_FEATURES, lambda s: s)
    by_width = leave_group_out(fitted.blocks, IR_FEATURES, lambda s: s.out_channels)

    # Whole networks: OFA's own sum, the table's prediction of the same network as an hwnas
    # architecture, and the same with every block priced held out by configuration.
    means = {r: {x.key: x.mean_ms for x in recs} for r, recs in load_note10(data_dir).items()}
    held_table = held_out_table(table, {p.key: p.predicted_ms for p in by_configuration})
    table_errors, held_errors, examples = [], [], []
    for resolution in OFA_RESOLUTIONS:
        subnets = sample_subnets(resolution, SUBNETS_PER_RESOLUTION, NETWORK_SEED + resolution)
        for subnet in subnets:
            ofa = sum(means[resolution][k] for k in ofa_keys(subnet))
            arch = Arch.parse(ofa_arch_string(subnet))
            predicted = table.predict(arch)
            table_errors.append((predicted - ofa) / ofa)
            held_errors.append((held_table.predict(arch) - ofa) / ofa)
        extremes = (OfaSubnet.uniform(resolution, 2, 3, 3), OfaSubnet.uniform(resolution, 4, 7, 6))
        for subnet in extremes if resolution in (160, 224) else ():
            ofa = sum(means[resolution][k] for k in ofa_keys(subnet))
            examples.append(
                {
                    "arch": ofa_arch_string(subnet),
                    "ofa_estimate_ms": round(ofa, 3),
                    "table_ms": round(table.predict(Arch.parse(ofa_arch_string(subnet))), 3),
                }
            )

    models = fitted.models
    conv_1 = [
        {
            "key": s.key,
            "measured_ms": round(ms, 4),
            "predicted_ms": round(models["pointwise"].predict(s), 4),
        }
        for s, ms in fitted.pointwise
    ]
    head_rate = models["head"]
    return {
        "targets": {"median_loo_error_pct_per_block_type": 15.0, "network_sum_error_pct": 5.0},
        "leave_one_out": {
            "blocks_by_configuration": {
                "check": "every input size of the held-out block's configuration left out "
                "(the primary check: a configuration OFA timed is never its own neighbour)",
                "by_type": per_type(by_configuration),
            },
            "blocks_by_shape": {
                "check": "one block shape left out (its configuration stays at other sizes)",
                "by_type": per_type(by_shape),
            },
            "blocks_by_output_width": {
                "check": "every block of the held-out output width left out (unseen widths)",
                "by_type": per_type(by_width),
            },
            "blocks": len(fitted.blocks),
            "configurations": len({configuration(s) for s, _ in fitted.blocks}),
        },
        "single_ops": {
            "pointwise_from_block_terms_vs_measured_final_1x1": conv_1,
            "stem_calibration": {
                "check": "measured stem / pointwise terms, over the 17 measured stems (one "
                "width, 3 input channels); the median is the stem model's factor",
                "median": round(statistics.median(fitted.stem_ratios), 4),
                "min": round(min(fitted.stem_ratios), 4),
                "max": round(max(fitted.stem_ratios), 4),
            },
            "head": {
                "check": "one weight byte rate and one pooled-input byte rate, fitted on the "
                f"{len(fitted.heads)} measured heads (one set of widths, 3 map sizes)",
                "ms_per_weight_byte": head_rate.coefficient("weight_bytes"),
                "ms_per_pooled_byte": head_rate.coefficient("input_bytes"),
                "classifier_alone_from_hidden_rate_error_pct": _classifier_check(data_dir),
            },
        },
        "whole_networks": {
            "check": f"{len(table_errors)} random subnets of OFA's space ({SUBNETS_PER_RESOLUTION}"
            f" per resolution, seed {NETWORK_SEED}+resolution) as hwnas architectures: the "
            "table's prediction and, with every block held out by configuration, the model's, "
            "against OFA's own estimator (ofa package, MobileNetV3 LatencyTable)",
            "table_vs_ofa": error_summary(table_errors),
            "held_out_blocks_vs_ofa": error_summary(held_errors),
            "examples": examples,
        },
        "cannot_know": NOTE10_CANNOT_KNOW,
        "published_subnets": (
            "OFA's specialised Note10 subnets carry OFA's estimate in their names "
            "(note10_lat@8/11/16/22/30/41/50/64ms, listed in the ofa2 package's "
            "tutorial/imagenet_eval_helper.py) but their configurations are downloaded at run "
            "time (ofa model_zoo.ofa_specialized), not published in the packages: they could not "
            "be checked offline. The 8 ms one is below the cheapest network these tables price "
            "(d2 e3 k3 at 160: see the examples), so it was priced from another table."
        ),
    }


def _classifier_check(data_dir: Path) -> float:
    """The classifier (Logits) priced at the hidden layer's (Conv_2) measured ms per weight byte:
    two one-row GEMMs of another shape, each streaming its weights once."""
    records = {r.op: r for r in load_note10(data_dir)[224] if r.op in ("Conv_2", "Logits")}
    mix, logits = records["Conv_2"], records["Logits"]
    rate = mix.mean_ms / ((mix.in_channels + 1) * mix.out_channels)
    predicted = rate * (logits.in_channels + 1) * logits.out_channels
    return round(100 * (predicted - logits.mean_ms) / logits.mean_ms, 2)


def build_note10(data_dir: Path, signatures: list[Signature]) -> tuple[LatencyTable, Note10Fit]:
    """The shipped Note10 table: measured entries, ``signatures`` modelled, cost model."""
    timings = note10_timings(data_dir)
    measured = measured_entries(timings)
    fitted = fit_note10(measured)
    entries = {s.key: e for s, e in measured.items()}
    for signature in signatures:
        if signature.key not in entries:
            kind = fitted.models[signature.op]
            ms = round(kind.predict(signature), 6)
            entries[signature.key] = Entry(ms, ms, 0.0, 0, "modelled")
    table = LatencyTable(
        device={
            "name": NOTE10,
            "cpu": "Samsung Galaxy Note10 (OFA's paper names the phone, not its SoC: Snapdragon "
            "855 or Exynos 9825 by market)",
            "arch": "aarch64",
            "os": "Android",
            "runtime": "TFLite fp32 (version not stated)",
            "threads": None,
            "batch": 1,
            "dtype": "fp32",
        },
        protocol={
            "measured_by": "the Once-for-All authors (published lookup tables), not by hwnas",
            "per_entry": "each block or layer timed by OFA on the phone: count, mean and std of "
            "its runs; median_ms is the median over the resolutions whose table times the same "
            "signature (mean_ms their mean, std_ms their spread), runs the sum of their counts",
            "threads": "not stated by the source",
        },
        entries=entries,
        activation=OFA_ACTIVATION,
        dtype="fp32",
    )
    table.provenance = {
        "summary": "measured entries: every entry of OFA's Note10 lookup tables (17 resolutions, "
        "stem, 91 blocks, final 1x1, pool + feature mix + classifier as one head); modelled "
        "entries: every other signature of the v1, v2 and v3 presets (3 channels/1000 classes "
        "and 1 channel/10 classes) priced by the cost model",
        "network_definition": OFA_CITATION,
        "activation": "OFA's ReLU stages are keyed relu; TFLite fuses ReLU and ReLU6 into the "
        "conv, so the cost model prices relu6 blocks alike; h-swish runs as its own op",
        "sources": [{"file": f"latency/tables/data/{note10_file(160)}", **SOURCE}],
        "measured_signatures": len(measured),
        "measured_timings": len(timings),
    }
    table.cost_model = {
        "form": "per op kind: latency_ms = sum(coefficient * feature(signature)); features as in "
        "latency.cost_model.FEATURES, raw units (MACs, bytes at the dtype, ops, elements)",
        "per_op": {kind: fit.to_dict() for kind, fit in fitted.models.items()},
        "fitted_on": {
            "ir": f"{len(fitted.blocks)} distinct measured blocks (non-negative least squares on "
            "relative error)",
            "pointwise": "the block model's expansion terms (a 1x1 conv + activation)",
            "depthwise": "the block model's depthwise terms",
            "stem": "the pointwise terms times the median ratio measured/predicted over the "
            f"{len(fitted.stems)} measured stems",
            "head": f"a weight-byte and a pooled-byte rate over the {len(fitted.heads)} measured "
            "heads",
        },
    }
    table.report = note10_report(table, fitted, data_dir)
    return table, fitted


NOTE10_CANNOT_KNOW = [
    "The phone and its threads: OFA's paper names a Samsung Galaxy Note10, not its SoC "
    "(Snapdragon 855 or Exynos 9825, by market), its TFLite version or the thread count; the "
    "tables state none of them. Treat the table as one unknown configuration of that phone.",
    "No whole network measured on this phone is published with its configuration: OFA's "
    "specialised Note10 subnets carry OFA's own estimate in their names and their configurations "
    "are not in the packages, so the table is checked against OFA's estimator (sums of these "
    "same entries), never against a measured network. How much a whole network differs from the "
    "sum of its blocks on the phone (fusion, caches) is unknown.",
    "Shapes outside OFA's space are extrapolated: OFA's blocks have OFA's widths (24-192, x1.2 "
    "MobileNetV3-Large's), expansions 3/4/6, kernels 3/5/7 and inputs from 160 to 224; hwnas's "
    "v3 preset uses MobileNetV3-Large's own widths (16-160), expansions 2.3 and 2.5 and "
    "resolution 128, and its v2 preset ReLU6 blocks without squeeze-and-excite at widths OFA "
    "never timed, so nearly all their blocks are modelled. Held out by output width, the block "
    "model errs by a median 5-10 % per type (see the report).",
    "Blocks without an expansion conv: OFA has one such configuration (its first block). Held "
    "out whole, it is priced from expanding blocks only and comes out about 20 % low; the "
    "expansion-1 blocks of the v2/v3 presets (their first stage) carry that uncertainty.",
    "Single layers have few measured shapes: one stem width (24, 3 input channels), one final "
    "1x1 conv at three map sizes, one head (1152 -> 1536 -> 1000). Other stems, 1x1 convs, "
    "MobileNetV1 depthwise layers and heads are priced by transfers from the block model and two "
    "byte rates, checked only on those shapes.",
]
NOTE10_WHAT = (
    "Measured: every entry of Once-for-All's Note10 lookup tables (17 input resolutions: stem, 91 "
    "MobileNetV3 blocks with squeeze-and-excite and h-swish, final 1x1, and pool + feature mix + "
    "classifier as one head); a signature timed at several resolutions keeps the median. "
    "Modelled: every other signature of the v1, v2 and v3 presets for 3 channels/1000 classes "
    "and 1 channel/10 classes."
)
NOTE10_TRUST = (
    "Trust it for ranking MobileNetV3-style architectures on a Note10-class phone with TFLite "
    "fp32, and for budgets with a margin of ~10-15 %: it reproduces OFA's own network estimates, "
    "and blocks held out by configuration are priced within a few %, but no whole network "
    "measured on the phone exists to check the sum, and most blocks of hwnas's presets are "
    "modelled at widths OFA never timed."
)


def render_note10_report(table: LatencyTable) -> str:
    """A plain-text summary of the Note10 table's report."""
    report = table.report or {}
    measured = sum(e.source == "measured" for e in table.entries.values())
    lines = [f"table {table.device_name}: {len(table.entries)} entries ({measured} measured)"]
    lines += render.coverage_lines(table)
    loo = report["leave_one_out"]
    lines.append(
        f"{loo['blocks']} distinct measured blocks ({loo['configurations']} configurations); "
        "held out (|error| %):"
    )
    for name, label in (
        ("blocks_by_configuration", "a whole configuration (every input size) out"),
        ("blocks_by_shape", "one shape out"),
        ("blocks_by_output_width", "every block of one output width out"),
    ):
        lines.append(f" {label}:")
        lines += [render.summary_line(k, v) for k, v in loo[name]["by_type"].items()]
    single = report["single_ops"]
    for item in single["pointwise_from_block_terms_vs_measured_final_1x1"]:
        error = 100 * (item["predicted_ms"] - item["measured_ms"]) / item["measured_ms"]
        lines.append(
            f"1x1 conv from the block model's expansion terms: {item['key']} measured "
            f"{item['measured_ms']:.3f} ms, predicted {item['predicted_ms']:.3f} ({error:+.1f} %)"
        )
    stem = single["stem_calibration"]
    lines.append(
        f"stem: measured / pointwise terms over 17 stems: median {stem['median']:.3f} "
        f"(min {stem['min']:.3f}, max {stem['max']:.3f})"
    )
    lines.append(
        "head: classifier priced at the hidden layer's ms per weight byte: "
        f"{single['head']['classifier_alone_from_hidden_rate_error_pct']:+.2f} %"
    )
    whole = report["whole_networks"]
    for name, label in (
        ("table_vs_ofa", "the table"),
        ("held_out_blocks_vs_ofa", "blocks held out by configuration"),
    ):
        item = whole[name]
        lines.append(
            f"{item['n']} random OFA subnets, {label} vs OFA's own estimate: median "
            f"{item['median_abs_pct']:.2f} %, max {item['max_abs_pct']:.2f} %, median bias "
            f"{item['median_bias_pct']:+.2f} %"
        )
    for example in whole["examples"]:
        lines.append(
            f"  OFA {example['ofa_estimate_ms']:.2f} ms, table {example['table_ms']:.2f} ms: "
            f"{example['arch'][:60]}..."
        )
    lines.append("published specialised subnets: " + report["published_subnets"])
    return "\n".join(lines)
