"""MobileNetV1 (Howard et al. 2017) and the paper's published counts.

Channel rounding: every width is ``make_divisible(alpha * base_width)`` (nearest multiple of 8,
never more than 10 % below). For the paper's multipliers 1.0, 0.75, 0.5 and 0.25 every MobileNetV1
width is already a multiple of 8, so the rounding is exact and the networks are the paper's.

The paper's Table 1 lists the second-to-last depthwise layer as "Conv dw / s2" on a 7x7 input with a
7x7 output; it is stride 1 in every reference implementation, and so here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from space.arch import Arch, Stage, make_divisible

#: (base width, depth, stride) per stage; stem 32 channels, stride 2; depthwise kernels 3x3.
MOBILENET_V1_STEM = 32
MOBILENET_V1_STAGES: tuple[tuple[int, int, int], ...] = (
    (64, 1, 1),
    (128, 2, 2),
    (256, 2, 2),
    (512, 6, 2),
    (1024, 2, 2),
)
PAPER_ALPHAS = (1.0, 0.75, 0.5, 0.25)
PAPER_RESOLUTIONS = (224, 192, 160, 128)


def mobilenet_v1(
    alpha: float, resolution: int, num_classes: int = 1000, in_channels: int = 3
) -> Arch:
    """The paper's MobileNetV1 with width multiplier ``alpha`` at input ``resolution``."""
    if not 0 < alpha <= 4:
        raise ValueError(f"width multiplier alpha must be in (0, 4], got {alpha!r}")
    return Arch(
        resolution=resolution,
        in_channels=in_channels,
        num_classes=num_classes,
        stem_width=make_divisible(alpha * MOBILENET_V1_STEM),
        stages=tuple(
            Stage(width=make_divisible(alpha * width), depth=depth, kernel=3, stride=stride)
            for width, depth, stride in MOBILENET_V1_STAGES
        ),
    )


@dataclass(frozen=True)
class PaperFigures:
    """Millions of multiply-adds and parameters as printed in the paper."""

    macs_millions: float
    params_millions: float


# The figures the paper prints: Table 6 (width multipliers at 224) and Table 7 (resolutions at
# alpha 1.0). Table 7 prints 1.0-160 as 290M; Table 6 of some versions prints 291M. The other
# nine combinations of the 4x4 grid appear in the paper only as points in Figures 4 and 5, without
# counts.
# Parameters are printed with one decimal, so ours are compared at that precision.
PAPER_FIGURES: dict[tuple[float, int], PaperFigures] = {
    (1.0, 224): PaperFigures(569, 4.2),
    (0.75, 224): PaperFigures(325, 2.6),
    (0.5, 224): PaperFigures(149, 1.3),
    (0.25, 224): PaperFigures(41, 0.5),
    (1.0, 192): PaperFigures(418, 4.2),
    (1.0, 160): PaperFigures(290, 4.2),
    (1.0, 128): PaperFigures(186, 4.2),
}


def baseline_name(alpha: float, resolution: int) -> str:
    """The name TensorFlow's release uses for a variant, e.g. ``mobilenet_v1_0.75_160``."""
    return f"mobilenet_v1_{float(alpha)}_{resolution}"


_BASELINE_NAME = re.compile(r"mobilenet_v1_(?P<alpha>[0-9]+(?:\.[0-9]+)?)_(?P<resolution>[0-9]+)")


def baseline_from_name(text: str, *, in_channels: int = 3, num_classes: int = 1000) -> Arch | None:
    """MobileNetV1 for a name such as ``mobilenet_v1_0.5_160`` (any alpha and resolution), for the
    given task; None if ``text`` is not such a name, ``ValueError`` if it is a malformed one."""
    name = text.strip()
    match = _BASELINE_NAME.fullmatch(name)
    if match:
        return mobilenet_v1(
            float(match["alpha"]), int(match["resolution"]), num_classes, in_channels
        )
    if name.startswith("mobilenet"):
        raise ValueError(
            f"unknown baseline name {name!r}: expected mobilenet_v1_<alpha>_<resolution>, "
            "e.g. mobilenet_v1_0.5_160"
        )
    return None


def parse_arch_or_baseline(text: str, *, in_channels: int = 3, num_classes: int = 1000) -> Arch:
    """An arch string, or a MobileNetV1 name such as ``mobilenet_v1_0.5_160`` for the given task."""
    baseline = baseline_from_name(text, in_channels=in_channels, num_classes=num_classes)
    return baseline if baseline is not None else Arch.parse(text)
