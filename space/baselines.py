"""The published MobileNets (V1, V2, V3), their names, and the figures published for them.

Channel rounding: every width is ``make_divisible(alpha * base width)`` (nearest multiple of 8,
never more than 10 % below), the rule of the reference implementations.

* **MobileNetV1** (Howard et al. 2017). For the paper's multipliers 1.0, 0.75, 0.5 and 0.25 every
  width is already a multiple of 8, so the networks are the paper's. The paper's Table 1 lists the
  second-to-last depthwise layer as "Conv dw / s2" on a 7x7 input with a 7x7 output; it is stride
  1 in every reference implementation, and so here.
* **MobileNetV2** (Sandler et al. 2018), as TF-Slim's ``mobilenet_v2`` and Keras'
  ``MobileNetV2`` build it: stem 32, seven stages of inverted residuals (expansion 6, the first
  1), ReLU6 everywhere, 1x1 conv to 1280 before the pool. The 1280 stays 1280 for multipliers
  below 1.0 and becomes ``make_divisible(1280 * alpha)`` above.
* **MobileNetV3** (Howard et al. 2019), Large and Small as Keras' ``MobileNetV3Large`` /
  ``MobileNetV3Small`` build them: the paper's Tables 1 and 2, squeeze-and-excite reducing to
  ``make_divisible(width / 4)``, head 1x1 conv to 6x the last stage's width, pool, 1280 (Large)
  or 1024 (Small) hidden units with hard-swish and no BN (kept for multipliers up to 1.0), then
  the classifier. Small's expansion 88/24 is written 3.67 (two decimals): the middle width is the
  same 88 at the published multipliers. Keras keeps the stem at 16 for every multiplier; here it is
  rounded like every other width, which also gives 16 for multipliers in [0.75, 1.25).

Training-only parts (dropout before the classifier) are not part of the architecture.

Published figures (`PUBLISHED`, sources in `SOURCES`) and the counts of the reference
implementation (`REFERENCE_COUNTS`: Keras 3.6) are data here; ours are computed (`space.layers`).
Ours equal Keras' to the unit for all 26 V2 and V3 networks. Against the published figures:
MobileNetV1 within 0.4 %; MobileNetV2 parameters equal at TF-Slim's printed precision and
multiply-adds within 2 % on 18 of its 22 networks (the four others carry a note); MobileNetV3
within 2 % of the paper's multiply-adds and parameters (Large 1.0: ours 216.6M and 5.46M, the
paper 219M and 5.4M, the TF-Slim/Keras table 217M), while that table's Small figures (66M/2.9M,
44M/2.4M) do not describe the network the same Keras code builds.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from space.arch import Arch, Stage, make_divisible

FAMILIES: tuple[str, ...] = ("v1", "v2", "v3")

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

#: (expansion, base width, depth, stride) per stage (the paper's Table 2); kernels 3x3.
MOBILENET_V2_STEM = 32
MOBILENET_V2_STAGES: tuple[tuple[float, int, int, int], ...] = (
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
)
MOBILENET_V2_HEAD = 1280
V2_ALPHAS = (1.4, 1.3, 1.0, 0.75, 0.5, 0.35)
V2_RESOLUTIONS = (224, 192, 160, 128, 96)

#: (expansion, base width, depth, kernel, stride, squeeze-excite, activation) per stage.
V3Stage = tuple[float, int, int, int, int, bool, str]
MOBILENET_V3_STEM = 16
MOBILENET_V3_LARGE: tuple[V3Stage, ...] = (
    (1, 16, 1, 3, 1, False, "relu"),
    (4, 24, 1, 3, 2, False, "relu"),
    (3, 24, 1, 3, 1, False, "relu"),
    (3, 40, 3, 5, 2, True, "relu"),
    (6, 80, 1, 3, 2, False, "hswish"),
    (2.5, 80, 1, 3, 1, False, "hswish"),
    (2.3, 80, 2, 3, 1, False, "hswish"),
    (6, 112, 2, 3, 1, True, "hswish"),
    (6, 160, 3, 5, 2, True, "hswish"),
)
MOBILENET_V3_SMALL: tuple[V3Stage, ...] = (
    (1, 16, 1, 3, 2, True, "relu"),
    (4.5, 24, 1, 3, 2, False, "relu"),
    (3.67, 24, 1, 3, 1, False, "relu"),
    (4, 40, 1, 5, 2, True, "hswish"),
    (6, 40, 2, 5, 1, True, "hswish"),
    (3, 48, 2, 5, 1, True, "hswish"),
    (6, 96, 3, 5, 2, True, "hswish"),
)
#: Head conv width as a multiple of the last stage's width; hidden units of the head.
MOBILENET_V3_HEAD_RATIO = 6
MOBILENET_V3_HIDDEN = {"large": 1280, "small": 1024}
V3_VARIANTS = ("large", "small")
V3_ALPHAS = (1.0, 0.75)


def _check_alpha(alpha: float) -> None:
    if not 0 < alpha <= 4:
        raise ValueError(f"width multiplier alpha must be in (0, 4], got {alpha!r}")


def mobilenet_v1(
    alpha: float, resolution: int, num_classes: int = 1000, in_channels: int = 3
) -> Arch:
    """The paper's MobileNetV1 with width multiplier ``alpha`` at input ``resolution``."""
    _check_alpha(alpha)
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


def _kept_unless_wider(width: int, alpha: float) -> int:
    """A head width that is not shrunk below ``width`` for multipliers below 1 (V2 and V3)."""
    return make_divisible(alpha * width) if alpha > 1 else width


def mobilenet_v2(
    alpha: float, resolution: int, num_classes: int = 1000, in_channels: int = 3
) -> Arch:
    """MobileNetV2 with width multiplier ``alpha`` at input ``resolution``."""
    _check_alpha(alpha)
    return Arch(
        resolution=resolution,
        in_channels=in_channels,
        num_classes=num_classes,
        stem_width=make_divisible(alpha * MOBILENET_V2_STEM),
        stem_activation="relu6",
        stages=tuple(
            Stage(
                width=make_divisible(alpha * width),
                depth=depth,
                kernel=3,
                stride=stride,
                block="ir",
                expansion=expansion,
                activation="relu6",
            )
            for expansion, width, depth, stride in MOBILENET_V2_STAGES
        ),
        head_width=_kept_unless_wider(MOBILENET_V2_HEAD, alpha),
        head_activation="relu6",
    )


def mobilenet_v3(
    variant: str, alpha: float, resolution: int, num_classes: int = 1000, in_channels: int = 3
) -> Arch:
    """MobileNetV3-Large or -Small (``variant``) with width multiplier ``alpha``."""
    if variant not in V3_VARIANTS:
        raise ValueError(f"unknown MobileNetV3 variant {variant!r}: expected large or small")
    _check_alpha(alpha)
    spec = MOBILENET_V3_LARGE if variant == "large" else MOBILENET_V3_SMALL
    stages = tuple(
        Stage(
            width=make_divisible(alpha * width),
            depth=depth,
            kernel=kernel,
            stride=stride,
            block="ir",
            expansion=expansion,
            se=se,
            activation=activation,
        )
        for expansion, width, depth, kernel, stride, se, activation in spec
    )
    return Arch(
        resolution=resolution,
        in_channels=in_channels,
        num_classes=num_classes,
        stem_width=make_divisible(alpha * MOBILENET_V3_STEM),
        stem_activation="hswish",
        stages=stages,
        head_width=make_divisible(MOBILENET_V3_HEAD_RATIO * stages[-1].width),
        head_hidden=_kept_unless_wider(MOBILENET_V3_HIDDEN[variant], alpha),
        head_activation="hswish",
    )


@dataclass(frozen=True)
class Baseline:
    """A published network: family, variant (``large``/``small`` for V3), multiplier, resolution."""

    family: str
    alpha: float
    resolution: int
    variant: str = ""

    def __post_init__(self) -> None:
        check_family(self.family)
        variants = V3_VARIANTS if self.family == "v3" else ("",)
        if self.variant not in variants:
            raise ValueError(
                f"MobileNet{self.family.upper()} has variants {list(variants)}, "
                f"got {self.variant!r}"
            )
        _check_alpha(self.alpha)

    @property
    def name(self) -> str:
        """The name TensorFlow's releases use, e.g. ``mobilenet_v3_small_0.75_224``."""
        variant = f"{self.variant}_" if self.variant else ""
        return f"mobilenet_{self.family}_{variant}{float(self.alpha)}_{self.resolution}"

    def arch(self, num_classes: int = 1000, in_channels: int = 3) -> Arch:
        """The network for a task with ``in_channels`` and ``num_classes``."""
        if self.family == "v1":
            return mobilenet_v1(self.alpha, self.resolution, num_classes, in_channels)
        if self.family == "v2":
            return mobilenet_v2(self.alpha, self.resolution, num_classes, in_channels)
        return mobilenet_v3(self.variant, self.alpha, self.resolution, num_classes, in_channels)


def check_family(family: str) -> str:
    """``family`` itself if it is one of `FAMILIES`, else a ``ValueError`` naming them."""
    if family not in FAMILIES:
        raise ValueError(f"unknown family {family!r}: expected one of {', '.join(FAMILIES)}")
    return family


def family_baselines(family: str, resolutions: Iterable[int]) -> list[Baseline]:
    """The family's published multipliers (and V3 variants) at each of ``resolutions``."""
    check_family(family)
    resolutions = tuple(resolutions)
    if family == "v1":
        return [Baseline("v1", a, r) for a in PAPER_ALPHAS for r in resolutions]
    if family == "v2":
        return [Baseline("v2", a, r) for a in V2_ALPHAS for r in resolutions]
    return [Baseline("v3", a, r, v) for v in V3_VARIANTS for a in V3_ALPHAS for r in resolutions]


def published_baselines(family: str) -> list[Baseline]:
    """The networks the family's authors published checkpoints of (TensorFlow's releases)."""
    if check_family(family) == "v2":
        wide = [Baseline("v2", a, 224) for a in V2_ALPHAS if a > 1]
        return wide + [Baseline("v2", a, r) for a in V2_ALPHAS if a <= 1 for r in V2_RESOLUTIONS]
    return family_baselines(family, PAPER_RESOLUTIONS if family == "v1" else (224,))


def baseline_name(alpha: float, resolution: int) -> str:
    """The name of a MobileNetV1 variant, e.g. ``mobilenet_v1_0.75_160``."""
    return Baseline("v1", alpha, resolution).name


# -- published figures ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PublishedFigures:
    """Millions of multiply-adds and parameters as printed by ``source`` (a key of `SOURCES`).

    ``note`` says why our count differs from a figure by more than 2 % (None: it does not).
    """

    macs_millions: float
    params_millions: float
    source: str = "v1-paper"
    note: str | None = None


SOURCES = {
    "v1-paper": "Howard et al. 2017, MobileNets, Tables 6 and 7",
    "v2-slim": "TF-Slim mobilenet_v2 README, table of published checkpoints "
    "(tensorflow/models, research/slim/nets/mobilenet)",
    "v3-paper": "Howard et al. 2019, Searching for MobileNetV3, Table 3",
    "v3-keras": "Keras 3.6.0 keras/src/applications/mobilenet_v3.py docstring table "
    "(the TF-Slim mobilenet_v3 checkpoints' table)",
}

# The figures the V1 paper prints: Table 6 (width multipliers at 224) and Table 7 (resolutions at
# alpha 1.0). Table 7 prints 1.0-160 as 290M; Table 6 of some versions prints 291M. The other
# nine combinations of the 4x4 grid appear in the paper only as points in Figures 4 and 5, without
# counts. Parameters are printed with one decimal, so ours are compared at that precision.
PAPER_FIGURES: dict[tuple[float, int], PublishedFigures] = {
    (1.0, 224): PublishedFigures(569, 4.2),
    (0.75, 224): PublishedFigures(325, 2.6),
    (0.5, 224): PublishedFigures(149, 1.3),
    (0.25, 224): PublishedFigures(41, 0.5),
    (1.0, 192): PublishedFigures(418, 4.2),
    (1.0, 160): PublishedFigures(290, 4.2),
    (1.0, 128): PublishedFigures(186, 4.2),
}

# TF-Slim prints MACs in whole millions. Four of its smallest networks are more than 2 % below our
# count, which is also Keras' count of its MobileNetV2 (REFERENCE_COUNTS), and no counting
# convention explains them. Adding any resolution-independent amount (a share of the
# classifier) to the exact convolution count cannot bring both 0.35-96 (11M) and 0.35-128 (20M)
# within 2 %, since their convolution counts are in the exact ratio (128/96)^2.
_V2_NOTE = (
    "TF-Slim's whole number is about 0.9M below our count, which Keras' MobileNetV2 gives to the "
    "multiply-add; on a network this small that is over 2 %"
)
_V2_MACS = {
    1.0: (300, 221, 154, 99, 56),
    0.75: (209, 153, 107, 69, 39),
    0.5: (97, 71, 50, 32, 18),
    0.35: (59, 43, 30, 20, 11),
}
_V2_PARAMS = {1.4: 6.06, 1.3: 5.34, 1.0: 3.47, 0.75: 2.61, 0.5: 1.95, 0.35: 1.66}
_V2_OFF = {(0.5, 96), (0.35, 192), (0.35, 160), (0.35, 96)}

_V3_SMALL_KERAS_NOTE = (
    "the docstring's Small figures do not describe the network Keras' own code builds (56.5M "
    "multiply-adds, 2.53M parameters at 1.0: REFERENCE_COUNTS); the paper's figures do"
)

PUBLISHED: dict[str, tuple[PublishedFigures, ...]] = {
    **{
        Baseline("v1", alpha, resolution).name: (figures,)
        for (alpha, resolution), figures in PAPER_FIGURES.items()
    },
    "mobilenet_v2_1.4_224": (PublishedFigures(582, 6.06, "v2-slim"),),
    "mobilenet_v2_1.3_224": (PublishedFigures(509, 5.34, "v2-slim"),),
    **{
        Baseline("v2", alpha, resolution).name: (
            PublishedFigures(
                macs,
                _V2_PARAMS[alpha],
                "v2-slim",
                _V2_NOTE if (alpha, resolution) in _V2_OFF else None,
            ),
        )
        for alpha, row in _V2_MACS.items()
        for resolution, macs in zip(V2_RESOLUTIONS, row, strict=True)
    },
    "mobilenet_v3_large_1.0_224": (
        PublishedFigures(219, 5.4, "v3-paper"),
        PublishedFigures(217, 5.4, "v3-keras"),
    ),
    "mobilenet_v3_large_0.75_224": (
        PublishedFigures(155, 4.0, "v3-paper"),
        PublishedFigures(155, 4.0, "v3-keras"),
    ),
    "mobilenet_v3_small_1.0_224": (
        PublishedFigures(56, 2.5, "v3-paper"),
        PublishedFigures(66, 2.9, "v3-keras", _V3_SMALL_KERAS_NOTE),
    ),
    "mobilenet_v3_small_0.75_224": (
        PublishedFigures(44, 2.0, "v3-paper"),
        PublishedFigures(44, 2.4, "v3-keras", _V3_SMALL_KERAS_NOTE),
    ),
}

#: (multiply-adds, parameters without BatchNorm, trainable parameters) of the networks Keras 3.6.0
#: builds (``keras.applications.MobileNetV2`` / ``MobileNetV3Large`` / ``MobileNetV3Small``,
#: ``weights=None``, 1000 classes): multiply-adds summed over Conv2D, DepthwiseConv2D and Dense
#: layers from Keras' own output shapes, parameters from ``count_params()``. Produced by
#: ``space/bench/keras_reference.py`` (output in ``results/space/keras_reference.json``). The
#: trainable counts of mobilenet_v2_1.0_224, mobilenet_v3_large_1.0_224 and
#: mobilenet_v3_small_1.0_224 are also torchvision's published 3,504,872, 5,483,032 and 2,542,856.
REFERENCE_COUNTS: dict[str, tuple[int, int, int]] = {
    "mobilenet_v2_1.4_224": (582195824, 6060840, 6108776),
    "mobilenet_v2_1.3_224": (509374560, 5342536, 5386792),
    "mobilenet_v2_1.0_224": (300774272, 3470760, 3504872),
    "mobilenet_v2_1.0_192": (221316608, 3470760, 3504872),
    "mobilenet_v2_1.0_160": (154083200, 3470760, 3504872),
    "mobilenet_v2_1.0_128": (99074048, 3470760, 3504872),
    "mobilenet_v2_1.0_96": (56289152, 3470760, 3504872),
    "mobilenet_v2_0.75_224": (209069792, 2609784, 2636424),
    "mobilenet_v2_0.75_192": (153941888, 2609784, 2636424),
    "mobilenet_v2_0.75_160": (107295200, 2609784, 2636424),
    "mobilenet_v2_0.75_128": (69129728, 2609784, 2636424),
    "mobilenet_v2_0.75_96": (39445472, 2609784, 2636424),
    "mobilenet_v2_0.5_224": (97131840, 1950136, 1968680),
    "mobilenet_v2_0.5_192": (71701760, 1950136, 1968680),
    "mobilenet_v2_0.5_160": (50184000, 1950136, 1968680),
    "mobilenet_v2_0.5_128": (32578560, 1950136, 1968680),
    "mobilenet_v2_0.5_96": (18885440, 1950136, 1968680),
    "mobilenet_v2_0.35_224": (59285808, 1663048, 1677128),
    "mobilenet_v2_0.35_192": (43896512, 1663048, 1677128),
    "mobilenet_v2_0.35_160": (30874800, 1663048, 1677128),
    "mobilenet_v2_0.35_128": (20220672, 1663048, 1677128),
    "mobilenet_v2_0.35_96": (11934128, 1663048, 1677128),
    "mobilenet_v3_large_1.0_224": (216589760, 5458632, 5483032),
    "mobilenet_v3_large_0.75_224": (154560624, 3974440, 3993528),
    "mobilenet_v3_small_1.0_224": (56510400, 2530744, 2542856),
    "mobilenet_v3_small_0.75_224": (43399344, 2032192, 2041872),
}


# -- names ---------------------------------------------------------------------------------------

_BASELINE_NAME = re.compile(
    r"mobilenet_(?P<family>v1|v2|v3_(?P<variant>large|small))_"
    r"(?P<alpha>[0-9]+(?:\.[0-9]+)?)_(?P<resolution>[0-9]+)"
)


def baseline_from_name(text: str, *, in_channels: int = 3, num_classes: int = 1000) -> Arch | None:
    """The network for a name such as ``mobilenet_v2_0.5_160`` or ``mobilenet_v3_small_1.0_224``
    (any multiplier and resolution) for the given task; None if ``text`` is not such a name,
    ``ValueError`` if it is a malformed one."""
    name = text.strip()
    match = _BASELINE_NAME.fullmatch(name)
    if match:
        family = match["family"][:2]
        variant = match["variant"] or ""
        baseline = Baseline(family, float(match["alpha"]), int(match["resolution"]), variant)
        return baseline.arch(num_classes, in_channels)
    if name.startswith("mobilenet"):
        raise ValueError(
            f"unknown baseline name {name!r}: expected mobilenet_v1_<alpha>_<resolution>, "
            "mobilenet_v2_<alpha>_<resolution> or mobilenet_v3_<large|small>_<alpha>_<resolution>,"
            " e.g. mobilenet_v1_0.5_160"
        )
    return None


def parse_arch_or_baseline(text: str, *, in_channels: int = 3, num_classes: int = 1000) -> Arch:
    """An arch string, or a baseline name such as ``mobilenet_v2_0.5_160``, for the given task."""
    baseline = baseline_from_name(text, in_channels=in_channels, num_classes=num_classes)
    return baseline if baseline is not None else Arch.parse(text)
