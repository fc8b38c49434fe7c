"""Which published copy of ProxylessNAS's ``mobile_trim`` block table to trust, with evidence.

The two copies share their 72 keys but differ in every value. The op profile of ProxylessNAS-Mobile
(same device class, TFLite fp32, 1 thread) measures 23 of those keys op by op inside one network:
the stem, its 20 blocks (expand, depthwise, project and the residual ADD) and the head. A copy
that is a measurement of the same phone and runtime must agree with those sums block by block,
up to one campaign factor (another day, another thermal state), not merely in its total.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scipy.stats import kendalltau

from latency.arm.blocks import parse_block_table
from latency.arm.networks import (
    PROXYLESSNAS_MOBILE_BLOCKS,
    PROXYLESSNAS_MOBILE_FEATURE_MIX,
    PROXYLESSNAS_MOBILE_STEM,
    proxylessnas_mobile,
)
from latency.arm.tflite import match_profile, parse_tflite_profile

PROFILE_FILE = "proxylessnas_tflite_profile_log/proxyless_mobile_10_latency.txt"
COPY_A = "proxylessnas_mobile_trim_lut/mobile_trim_copy_a.yaml"
COPY_B = "proxylessnas_mobile_trim_lut/mobile_trim_copy_b.yaml"
TRIM_FILES = (COPY_A, COPY_B)


def proxylessnas_block_keys() -> list[str]:
    """The block-table keys of ProxylessNAS-Mobile's layers, in order, repeats kept."""
    keys = [f"Conv-input:224x224x3-output:112x112x{PROXYLESSNAS_MOBILE_STEM}"]
    size, channels = 112, PROXYLESSNAS_MOBILE_STEM
    for expand, kernel, stride, width in PROXYLESSNAS_MOBILE_BLOCKS:
        out = -(-size // stride)
        skip = int(stride == 1 and channels == width)
        keys.append(
            f"expanded_conv-input:{size}x{size}x{channels}-output:{out}x{out}x{width}"
            f"-expand:{expand}-kernel:{kernel}-stride:{stride}-idskip:{skip}"
        )
        size, channels = out, width
    keys.append(
        f"Conv_1-input:{size}x{size}x{channels}-output:{size}x{size}x"
        f"{PROXYLESSNAS_MOBILE_FEATURE_MIX}"
    )
    keys.append(f"Logits-input:{size}x{size}x{PROXYLESSNAS_MOBILE_FEATURE_MIX}-output:1000")
    return keys


def profile_block_times(data_dir: Path) -> list[tuple[str, float]]:
    """(block-table key, ms) for every layer group of the profiled ProxylessNAS-Mobile, in order.

    A block's time is the sum of its profiled ops (expand, depthwise, project, ADD); ``Logits``
    is everything after ``Conv_1`` (pool, classifier, reshape), as the block table defines it.
    """
    profile = parse_tflite_profile(data_dir / PROFILE_FILE)
    by_layer: dict[str, float] = {}
    for timing in match_profile(profile, proxylessnas_mobile()):
        group = timing.layer.split(".")[0]
        if group in ("softmax", "output"):
            group = "head"
        by_layer[group] = by_layer.get(group, 0.0) + timing.ms
    groups = ["stem", *(f"b{i}" for i in range(len(PROXYLESSNAS_MOBILE_BLOCKS)))]
    groups += ["feature_mix", "head"]
    return list(zip(proxylessnas_block_keys(), (by_layer[g] for g in groups), strict=True))


@dataclass(frozen=True)
class CopyAgreement:
    """How one copy compares with the profile on the keys both measure."""

    name: str
    errors: tuple[float, ...]
    campaign_scale: float
    scaled_errors: tuple[float, ...]
    kendall_tau: float
    network_sum_ms: float

    def to_dict(self) -> dict[str, Any]:
        """The report's entry for this copy."""
        absolute = [abs(e) for e in self.errors]
        scaled = [abs(e) for e in self.scaled_errors]
        return {
            "median_abs_pct": round(100 * statistics.median(absolute), 2),
            "max_abs_pct": round(100 * max(absolute), 2),
            "median_bias_pct": round(100 * statistics.median(self.errors), 2),
            "campaign_scale": round(self.campaign_scale, 4),
            "after_campaign_scale_median_abs_pct": round(100 * statistics.median(scaled), 2),
            "after_campaign_scale_max_abs_pct": round(100 * max(scaled), 2),
            "kendall_tau": round(self.kendall_tau, 3),
            "proxylessnas_mobile_sum_ms": round(self.network_sum_ms, 3),
        }


def copy_agreement(data_dir: Path) -> dict[str, Any]:
    """Both copies against the profile's per-block sums, key by key, and the choice it implies.

    ``campaign_scale`` is the copy's sum over ProxylessNAS-Mobile's 20 blocks divided by the
    profile's (the stem and head are left out: single ops that both copies time far from the
    profile); errors after it are what one factor for a day's thermal state cannot explain.
    """
    reference = profile_block_times(data_dir)
    keys = [key for key, _ in reference]
    profile_ms = [ms for _, ms in reference]
    block_rows = [i for i, key in enumerate(keys) if key.startswith("expanded_conv")]
    results: dict[str, Any] = {"keys": keys, "profile_ms": [round(v, 6) for v in profile_ms]}
    agreements = []
    for name in TRIM_FILES:
        means = {r.key: r.mean_ms for r in parse_block_table(data_dir / name)}
        copy_ms = [means[key] for key in keys]
        scale = sum(copy_ms[i] for i in block_rows) / sum(profile_ms[i] for i in block_rows)
        tau = kendalltau(copy_ms, profile_ms).statistic
        agreement = CopyAgreement(
            name=Path(name).stem,
            errors=tuple((c - p) / p for c, p in zip(copy_ms, profile_ms, strict=True)),
            campaign_scale=scale,
            scaled_errors=tuple(
                (c / scale - p) / p for c, p in zip(copy_ms, profile_ms, strict=True)
            ),
            kendall_tau=float(tau),
            network_sum_ms=sum(copy_ms),
        )
        agreements.append(agreement)
        results[agreement.name] = {
            **agreement.to_dict(),
            "ms": [round(v, 6) for v in copy_ms],
        }
    # The copy whose blocks agree with the profile once one campaign factor is allowed.
    best = min(agreements, key=lambda a: statistics.median(abs(e) for e in a.scaled_errors))
    results["chosen"] = next(n for n in TRIM_FILES if Path(n).stem == best.name)
    results["profile_sum_ms"] = round(sum(profile_ms), 3)
    return results
