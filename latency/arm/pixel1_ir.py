"""Inverted-residual blocks on the Pixel 1 (TFLite fp32, 1 thread) from ProxylessNAS's data.

Measured blocks come from two campaigns on the same class of phone:

* the op profile of ProxylessNAS-Mobile: each of its blocks is the sum of its profiled ops
  (expand, depthwise, project, ADD), in the campaign of the profile's 80.6 ms whole-network time;
* ``mobile_trim`` copy_a (chosen over copy_b by `latency.arm.trim_copies`) for every other block
  shape, divided by that copy's campaign factor against the profile, so that every measured entry
  of the table is on the profile's scale.

ProxylessNAS measured no squeeze-and-excite or h-swish block on this phone. Their costs are
transferred from the Note10 model: its SE and h-swish coefficients times the median ratio of
Pixel-1 block times to the Note10 model's prediction of the same blocks. That part is unchecked
on the Pixel 1, and the report says so.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from latency.arm.blocks import parse_block_table
from latency.arm.fit import LinearFit, Point, fit_linear
from latency.arm.ir_model import (
    IR_FEATURES,
    SE_HSWISH_FEATURES,
    configuration,
    leave_group_out,
    median_ratio,
    per_type,
    transfer,
)
from latency.arm.trim_copies import copy_agreement, profile_block_times
from latency.signature import Signature

#: ProxylessNAS's blocks use ReLU6 (TFLite fuses it into the conv, as it does ReLU).
PROXYLESSNAS_ACTIVATION = "relu6"


@dataclass(frozen=True)
class MeasuredBlock:
    """A measured Pixel-1 block: its signature, time on the profile's scale and its source."""

    signature: Signature
    ms: float
    source: str
    key: str
    published_ms: float
    runs: int


def pixel1_blocks(data_dir: Path) -> tuple[list[MeasuredBlock], dict[str, Any]]:
    """Every measured block shape once (profile first, then the chosen copy), and the choice."""
    agreement = copy_agreement(data_dir)
    chosen = agreement["chosen"]
    scale = agreement[Path(chosen).stem]["campaign_scale"]
    records = {r.key: r for r in parse_block_table(data_dir / chosen)}
    repeats: dict[str, list[float]] = {}
    for key, ms in profile_block_times(data_dir):
        if key.startswith("expanded_conv"):
            repeats.setdefault(key, []).append(ms)
    # The profile's runs: benchmark_model averaged every op over 100 runs.
    measured = [
        MeasuredBlock(
            records[key].block_signature(PROXYLESSNAS_ACTIVATION),
            statistics.fmean(times),
            "profile",
            key,
            statistics.fmean(times),
            100,
        )
        for key, times in repeats.items()
    ]
    measured += [
        MeasuredBlock(
            record.block_signature(PROXYLESSNAS_ACTIVATION),
            record.mean_ms / scale,
            Path(chosen).stem,
            key,
            record.mean_ms,
            record.count,
        )
        for key, record in records.items()
        if record.op == "expanded_conv" and key not in repeats
    ]
    return measured, {"chosen": chosen, "campaign_scale": scale, "agreement": agreement}


def fit_pixel1_blocks(data_dir: Path, note10_blocks: LinearFit) -> dict[str, Any]:
    """The Pixel-1 block model (SE/h-swish transferred), its held-out errors, the copy choice."""
    measured, choice = pixel1_blocks(data_dir)
    points: list[Point] = [(m.signature, m.ms) for m in measured]
    own = fit_linear(points, IR_FEATURES)
    ratios = sorted(ms / note10_blocks.predict(s) for s, ms in points)
    ratio = median_ratio([ms for _, ms in points], [note10_blocks.predict(s) for s, _ in points])
    # Every configuration occurs at one input size here: this holds out one block at a time.
    held = leave_group_out(points, IR_FEATURES, configuration)
    return {
        "model": transfer(own, note10_blocks, SE_HSWISH_FEATURES, ratio),
        "measured": measured,
        "choice": choice,
        "speed_ratio_vs_note10": ratio,
        "speed_ratio_p10_p90": (ratios[len(ratios) // 10], ratios[(9 * len(ratios)) // 10]),
        "loo": per_type(held),
        "held_out": held,
    }
