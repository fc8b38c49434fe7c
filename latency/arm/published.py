"""Published whole-network latencies that check the ARM tables, with the networks as hwnas archs.

Only figures measured on the same class of device and runtime as a table check it: Google Pixel 1,
TFLite fp32, one big core, batch 1. A table prices these networks exactly as it prices a search's
candidates (`LatencyTable.predict` on the architecture).
"""

from __future__ import annotations

from dataclasses import dataclass

from latency.arm.networks import (
    PROXYLESSNAS_MOBILE,
    PROXYLESSNAS_MOBILE_BLOCKS,
    PROXYLESSNAS_MOBILE_CITATION,
    PROXYLESSNAS_MOBILE_FEATURE_MIX,
    PROXYLESSNAS_MOBILE_STEM,
)
from space import Arch, mobilenet_v1, mobilenet_v2

MOBILENET_V2_SOURCE = (
    "Sandler et al., MobileNetV2: Inverted Residuals and Linear Bottlenecks, CVPR 2018, Table 4 "
    "(single large core of a Google Pixel 1, TF-Lite)"
)
PROXYLESSNAS_PROFILE_SOURCE = (
    "the ProxylessNAS-Mobile TFLite op profile's whole-network average (benchmark_model, 100 "
    "runs; latency/tables/data/proxylessnas_tflite_profile_log)"
)


@dataclass(frozen=True)
class PublishedLatency:
    """A whole-network latency as published, and the network it belongs to."""

    name: str
    arch: Arch
    ms: float
    source: str


def proxylessnas_mobile_arch() -> Arch:
    """ProxylessNAS-Mobile as an hwnas architecture (ReLU6, one ``ir`` stage per block)."""
    stages = [
        f"ir_r1_k{kernel}_s{stride}_e{expand}_c{width}_relu6"
        for expand, kernel, stride, width in PROXYLESSNAS_MOBILE_BLOCKS
    ]
    return Arch.parse(
        f"stem_r224_i3_c{PROXYLESSNAS_MOBILE_STEM}_relu6:"
        + ":".join(stages)
        + f":head_c{PROXYLESSNAS_MOBILE_FEATURE_MIX}_n1000_relu6"
    )


def pixel1_published(profile_total_ms: float) -> list[PublishedLatency]:
    """Whole networks measured on a Pixel 1 big core, TFLite fp32: MobileNetV2's Table 4 and the
    ProxylessNAS-Mobile profile (``profile_total_ms``, its measured average)."""
    return [
        PublishedLatency(
            PROXYLESSNAS_MOBILE,
            proxylessnas_mobile_arch(),
            profile_total_ms,
            f"{PROXYLESSNAS_PROFILE_SOURCE}; network: {PROXYLESSNAS_MOBILE_CITATION}",
        ),
        PublishedLatency(
            "mobilenet_v1_1.0_224", mobilenet_v1(1.0, 224), 113.0, MOBILENET_V2_SOURCE
        ),
        PublishedLatency("mobilenet_v2_1.0_224", mobilenet_v2(1.0, 224), 75.0, MOBILENET_V2_SOURCE),
        PublishedLatency(
            "mobilenet_v2_1.4_224", mobilenet_v2(1.4, 224), 143.0, MOBILENET_V2_SOURCE
        ),
    ]
