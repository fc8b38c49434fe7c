"""The Samsung Note10 (TFLite fp32) block model, fitted on Once-for-All's lookup tables.

OFA times its MobileNetV3 space's blocks at 17 input resolutions (160-224). The block model of
`latency.arm.ir_model` is fitted on all of them; its held-out errors are reported per block type
with a whole configuration (all resolutions) held out, and, stricter, with every block of one
output width held out. Whole networks are checked against OFA's own estimator: its sum over the
measured entries is what a table made of those entries must reproduce exactly, and the block
model alone (held out) must come close to it.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from latency.arm.blocks import BlockRecord
from latency.arm.fit import error_summary
from latency.arm.ir_model import (
    IR_FEATURES,
    BlockModel,
    BlockPoint,
    HeldOut,
    configuration,
    fit_block_model,
    loo_by_configuration,
    loo_by_group,
    per_type,
)
from latency.arm.ofa import OfaSubnet, load_note10, ofa_keys

NOTE10 = "note10-tflite-fp32"


@dataclass(frozen=True)
class PublishedBlock:
    """An ``expanded_conv`` entry of a published block table, as the block model sees it."""

    in_h: int
    in_channels: int
    mid_channels: int
    out_channels: int
    kernel: int
    stride: int
    se: bool
    residual: bool
    activation: str

    @classmethod
    def from_record(cls, record: BlockRecord, activation: str) -> PublishedBlock:
        """The block of ``record``; ``activation`` unless the key says h-swish (``hs:1``)."""
        if record.op != "expanded_conv":
            raise ValueError(f"entry {record.key!r} is not an inverted-residual block")
        return cls(
            in_h=record.in_h,
            in_channels=record.in_channels,
            mid_channels=record.middle_channels,
            out_channels=record.out_channels,
            kernel=record.params["kernel"],
            stride=record.params["stride"],
            se=bool(record.params.get("se", 0)),
            residual=record.residual,
            activation="hswish" if record.params.get("hs", 0) else activation,
        )


#: OFA's MobileNetV3 stages without h-swish use ReLU (``act_stages`` of OFAMobileNetV3).
OFA_ACTIVATION = "relu"


@dataclass(frozen=True)
class Note10Data:
    """Every resolution's measured entries: key -> mean, and its blocks as (key, block, ms)."""

    means: dict[int, dict[str, float]]
    blocks: dict[int, list[tuple[str, PublishedBlock, float]]]

    def points(self) -> list[BlockPoint]:
        """Every measured block of every resolution, by resolution then table order."""
        return [(b, ms) for r in sorted(self.blocks) for _, b, ms in self.blocks[r]]

    def keys(self) -> list[tuple[int, str]]:
        """(resolution, key) of every block, in the order of `points`."""
        return [(r, key) for r in sorted(self.blocks) for key, _, _ in self.blocks[r]]


def load_note10_data(data_dir: Path) -> Note10Data:
    """The copied Note10 tables, parsed."""
    means: dict[int, dict[str, float]] = {}
    blocks: dict[int, list[tuple[str, PublishedBlock, float]]] = {}
    for resolution, records in load_note10(data_dir).items():
        means[resolution] = {r.key: r.mean_ms for r in records}
        blocks[resolution] = [
            (r.key, PublishedBlock.from_record(r, OFA_ACTIVATION), r.mean_ms)
            for r in records
            if r.op == "expanded_conv"
        ]
    return Note10Data(means, blocks)


def sample_subnets(resolution: int, count: int, seed: int) -> list[OfaSubnet]:
    """``count`` random subnets of OFA's space at ``resolution`` (as OFA's evolution samples)."""
    rng = np.random.default_rng(seed)
    subnets = []
    for _ in range(count):
        subnets.append(
            OfaSubnet(
                resolution,
                tuple(int(d) for d in rng.choice((2, 3, 4), size=5)),
                tuple(int(k) for k in rng.choice((3, 5, 7), size=20)),
                tuple(int(e) for e in rng.choice((3, 4, 6), size=20)),
            )
        )
    return subnets


def network_check(
    data: Note10Data, held: list[HeldOut], subnets_per_resolution: int, seed: int
) -> dict[str, Any]:
    """OFA's sums of random subnets vs the same sums with every block priced held out.

    ``held`` is in the order of ``data.points()``. The non-block entries (stem, Conv_1, pool,
    Conv_2, classifier) stay measured in both, so the difference is the block model's error as
    a whole network sees it.
    """
    held_ms = {key: h.predicted_ms for key, h in zip(data.keys(), held, strict=True)}
    errors = []
    for resolution in sorted(data.means):
        measured = data.means[resolution]
        for subnet in sample_subnets(resolution, subnets_per_resolution, seed + resolution):
            keys = ofa_keys(subnet)
            ofa = sum(measured[k] for k in keys)
            model = sum(held_ms.get((resolution, k), measured[k]) for k in keys)
            errors.append((model - ofa) / ofa)
    return {"networks": len(errors), "seed": seed, **error_summary(errors)}


def fit_note10(data_dir: Path) -> dict[str, Any]:
    """The Note10 block model and its held-out checks (block types, widths, whole networks)."""
    data = load_note10_data(data_dir)
    points = data.points()
    model: BlockModel = fit_block_model(points, IR_FEATURES)
    by_configuration = loo_by_configuration(points, IR_FEATURES)
    by_width = loo_by_group(points, IR_FEATURES, lambda b: b.out_channels)
    # The plain check: one block shape out (with its repeats at resolutions that share it).
    by_shape = loo_by_group(points, IR_FEATURES, lambda b: (b.in_h, *configuration(b)))
    return {
        "model": model,
        "blocks": len(points),
        "configurations": len({configuration(b) for b, _ in points}),
        "loo_by_configuration": per_type(by_configuration),
        "loo_by_output_width": per_type(by_width),
        "loo_by_shape": per_type(by_shape),
        "networks": network_check(data, by_configuration, 20, seed=0),
        "median_block_ms": statistics.median(ms for _, ms in points),
    }
