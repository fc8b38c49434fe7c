"""Published whole-network latencies used to check the ARM tables, with the networks' op lists.

Only figures measured on the same class of device and runtime as a table are used to check it:
Google Pixel 1, TFLite fp32, one big core, batch 1.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from latency.signature import Signature, arch_signatures, layer_signature
from space import blocks, mobilenet_v1, mobilenet_v2

MOBILENET_V2_SOURCE = (
    "Sandler et al., MobileNetV2: Inverted Residuals and Linear Bottlenecks, CVPR 2018, Table 4 "
    "(single large core of a Google Pixel 1, TF-Lite)"
)


@dataclass(frozen=True)
class NetworkOps:
    """A network as its hwnas op signatures plus the bytes of each residual add (fp32)."""

    name: str
    ops: tuple[Signature, ...]
    add_bytes: tuple[int, ...]


@dataclass(frozen=True)
class PublishedLatency:
    """A whole-network latency as printed in a paper, and the network it belongs to."""

    network: NetworkOps
    ms: float
    source: str


def mobilenet_v2_ops(width: float = 1.0, activation: str = "relu6") -> NetworkOps:
    """MobileNetV2 at 224x224x3, 1000 classes, width multiplier ``width`` (`space.mobilenet_v2`),
    as MobileNetV1-kind signatures: expansion, projection and head convs are pointwise ops."""
    ops = []
    adds = []
    for block in blocks(mobilenet_v2(width, 224)):
        for layer in block.layers:
            kind = "pointwise" if layer.kind in ("expand", "project", "head_conv") else layer.kind
            ops.append(layer_signature(replace(layer, kind=kind), activation))
        if block.residual:
            adds.append(4 * block.out_size * block.out_size * block.out_channels)
    return NetworkOps(f"mobilenet_v2_{width}_224", tuple(ops), tuple(adds))


def pixel1_published() -> list[PublishedLatency]:
    """Whole-network latencies on a Pixel 1 big core, TFLite fp32, from MobileNetV2's Table 4."""
    v1 = NetworkOps(
        "mobilenet_v1_1.0_224", tuple(arch_signatures(mobilenet_v1(1.0, 224), "relu6")), ()
    )
    return [
        PublishedLatency(v1, 113.0, MOBILENET_V2_SOURCE),
        PublishedLatency(mobilenet_v2_ops(1.0), 75.0, MOBILENET_V2_SOURCE),
        PublishedLatency(mobilenet_v2_ops(1.4), 143.0, MOBILENET_V2_SOURCE),
    ]
