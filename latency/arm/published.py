"""Published whole-network latencies used to check the ARM tables, with the networks' op lists.

Only figures measured on the same class of device and runtime as a table are used to check it:
Google Pixel 1, TFLite fp32, one big core, batch 1.
"""

from __future__ import annotations

from dataclasses import dataclass

from latency.signature import Signature, arch_signatures
from space import make_divisible, mobilenet_v1

MOBILENET_V2_SOURCE = (
    "Sandler et al., MobileNetV2: Inverted Residuals and Linear Bottlenecks, CVPR 2018, Table 4 "
    "(single large core of a Google Pixel 1, TF-Lite)"
)

#: MobileNetV2 bottlenecks (expansion t, output channels c, repeats n, first stride s), Table 2 of
#: Sandler et al. 2018; stem 32 channels 3x3 stride 2, a 1x1 conv to 1280, pool, classifier.
MOBILENET_V2_BLOCKS = (
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
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
    """MobileNetV2 at 224x224x3, 1000 classes, width multiplier ``width`` (TF-slim rounding)."""

    def sig(op: str, size: int, cin: int, cout: int, kernel: int, stride: int) -> Signature:
        return Signature(op, size, size, cin, cout, kernel, stride, activation, "fp32")

    stem = make_divisible(32 * width)
    ops = [sig("stem", 224, 3, stem, 3, 2)]
    adds = []
    size, channels = 112, stem
    for expand, base, repeats, first_stride in MOBILENET_V2_BLOCKS:
        width_out = make_divisible(base * width)
        for index in range(repeats):
            stride = first_stride if index == 0 else 1
            middle = make_divisible(channels * expand)
            if expand != 1:
                ops.append(sig("pointwise", size, channels, middle, 1, 1))
            out = -(-size // stride)
            ops.append(sig("depthwise", size, middle, middle, 3, stride))
            ops.append(sig("pointwise", out, middle, width_out, 1, 1))
            if stride == 1 and channels == width_out:
                adds.append(4 * out * out * width_out)
            size, channels = out, width_out
    last = make_divisible(1280 * width) if width > 1.0 else 1280
    ops.append(sig("pointwise", size, channels, last, 1, 1))
    ops.append(sig("head", size, last, 1000, size, 1))
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
