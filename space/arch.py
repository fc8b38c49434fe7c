"""Architectures as values: the `Arch` dataclass, its canonical string form and channel rounding.

String form (one line, shell-safe): a stem, one token per stage, a head, separated by ``:``.
MobileNetV1 1.0-224::

    stem_r224_i3_c32:ds_r1_k3_s1_c64:ds_r2_k3_s2_c128:ds_r2_k3_s2_c256:ds_r6_k3_s2_c512:ds_r2_k3_s2_c1024:head_n1000

MobileNetV3-Large 1.0-224 (`space.baselines`)::

    stem_r224_i3_c16_hswish:ir_r1_k3_s1_e1_c16:ir_r1_k3_s2_e4_c24:ir_r1_k3_s1_e3_c24:
    ir_r3_k5_s2_e3_c40_se:ir_r1_k3_s2_e6_c80_hswish:ir_r1_k3_s1_e2.5_c80_hswish:
    ir_r2_k3_s1_e2.3_c80_hswish:ir_r2_k3_s1_e6_c112_se_hswish:ir_r3_k5_s2_e6_c160_se_hswish:
    head_c960_h1280_n1000_hswish

(one line; broken here for reading).

* ``stem``: input resolution ``r``, input channels ``i``, width ``c`` of the 3x3 stem conv, its
  stride ``s`` (1 or 2; default 2, not printed).
* ``ds``: a stage of ``r`` depthwise-separable blocks (MobileNetV1): depthwise ``k`` x ``k`` + BN +
  act, pointwise 1x1 to width ``c`` + BN + act. ``s`` is the stride of the first block.
* ``ir``: a stage of ``r`` inverted-residual blocks (MobileNetV2/V3): 1x1 expansion to
  ``make_divisible(e * input width)`` + BN + act (absent when ``e`` is 1 or that width equals the
  input width), depthwise ``k`` x ``k`` + BN + act, squeeze-and-excite if the flag ``se`` is
  present, linear 1x1 projection to ``c`` + BN, and a residual connection when the block has
  stride 1 and equal input and output widths.
  ``e`` is a number >= 1 with at most two decimals (``e6``, ``e2.5``, ``e3.67``).
* ``head``: optional 1x1 conv to ``c`` + BN + act before the global average pool (MobileNetV2's
  1280, MobileNetV3's 960/576), optional hidden layer of ``h`` units with bias and act, no BN,
  after the pool (MobileNetV3's 1280/1024), and a linear classifier with ``n`` classes.
  MobileNetV1's head is ``head_n1000``, MobileNetV2's ``head_c1280_n1000_relu6``.
* An activation word, ``relu`` (the default, not printed), ``relu6`` or ``hswish`` (hard-swish),
  sets the activation of every activated layer of that stem, stage or head. Squeeze-and-excite
  always uses ReLU inside and a hard-sigmoid gate (MobileNetV3).

Each block needs each of its keys exactly once, in any order; optional keys and defaults may be
given or left out. The printer writes the canonical order above and leaves defaults out, so
``Arch.parse(a.to_str()) == a`` for every architecture, and every string of the MobileNetV1-only
grammar (no ``s`` in the stem, no activation words) parses to the same network and prints the same.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

STEM_KERNEL = 3
DEFAULT_STEM_STRIDE = 2
CHANNEL_DIVISOR = 8
DEFAULT_ACTIVATION = "relu"
#: Activations of stems, stages and heads: ReLU, ReLU6 (MobileNetV2), hard-swish (MobileNetV3).
ACTIVATIONS: tuple[str, ...] = ("relu", "relu6", "hswish")
#: Stage block types: depthwise-separable (MobileNetV1) and inverted residual (MobileNetV2/V3).
BLOCKS: tuple[str, ...] = ("ds", "ir")
VALID_STRIDES = (1, 2)
MAX_EXPANSION = 16.0
SE_FLAG = "se"
_INT = re.compile(r"[1-9][0-9]*")
# A decimal >= 1 with at most two decimals and no redundant zeros: 6, 2.5, 3.67.
_DECIMAL = re.compile(r"[1-9][0-9]*(?:\.[0-9]?[1-9])?")


def make_divisible(value: float, divisor: int = CHANNEL_DIVISOR) -> int:
    """Round a channel count to the nearest multiple of ``divisor``, never more than 10 % below it.

    timm's ``make_divisible`` semantics (and TF-Slim's / Keras' ``_make_divisible`` for MobileNet
    V2 and V3). The single rounding rule used by the search space, the model builder and the
    latency keys, so that they cannot drift apart.
    """
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"channel count must be a positive finite number, got {value!r}")
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * value:
        rounded += divisor
    return rounded


def format_decimal(value: float) -> str:
    """A number with at most two decimals as the string form prints it: 6, 2.5, 3.67."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _check_positive_int(owner: str, name: str, value: Any) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{owner} {name} must be a positive integer, got {value!r}")


def check_expansion(value: Any) -> float:
    """An inverted residual's expansion as a float; ``ValueError`` unless in [1, 16] with at most
    two decimals (so that the string form prints it exactly)."""
    if (
        not isinstance(value, int | float)
        or isinstance(value, bool)
        or not 1 <= value <= MAX_EXPANSION
        or round(value, 2) != value
    ):
        raise ValueError(
            f"expansion must be a number in [1, {MAX_EXPANSION:g}] with at most two decimals, "
            f"got {value!r}"
        )
    return float(value)


def check_activation(owner: str, value: Any) -> None:
    """``ValueError`` naming ``owner`` unless ``value`` is one of `ACTIVATIONS`."""
    if value not in ACTIVATIONS:
        raise ValueError(
            f"unknown {owner} activation {value!r}: expected one of {', '.join(ACTIVATIONS)}"
        )


@dataclass(frozen=True)
class Stage:
    """A stage of ``depth`` identical blocks of type ``block``; only the first block strides.

    ``expansion`` and ``se`` belong to inverted-residual (``ir``) stages; a ``ds`` stage keeps
    their defaults (1.0 and False).
    """

    width: int
    depth: int
    kernel: int
    stride: int
    block: str = "ds"
    expansion: float = 1.0
    se: bool = False
    activation: str = DEFAULT_ACTIVATION

    def __post_init__(self) -> None:
        for name in ("width", "depth", "kernel", "stride"):
            _check_positive_int("stage", name, getattr(self, name))
        if self.kernel % 2 == 0:
            raise ValueError(f"depthwise kernel must be odd, got {self.kernel}")
        if self.stride not in VALID_STRIDES:
            raise ValueError(f"stage stride must be one of {VALID_STRIDES}, got {self.stride}")
        if self.block not in BLOCKS:
            raise ValueError(f"unknown block type {self.block!r}: expected one of ds, ir")
        # Frozen value: one type for equal values, so that asdict() and JSON do not vary.
        object.__setattr__(self, "expansion", check_expansion(self.expansion))
        if not isinstance(self.se, bool):
            raise ValueError(f"stage se must be True or False, got {self.se!r}")
        check_activation("stage", self.activation)
        if self.block == "ds" and (self.expansion != 1.0 or self.se):
            raise ValueError(
                "a 'ds' stage has no expansion or squeeze-excite (those are 'ir' choices), got "
                f"expansion {format_decimal(self.expansion)} and se {self.se}"
            )

    def to_str(self) -> str:
        """Canonical ``ds_r…_k…_s…_c…`` or ``ir_r…_k…_s…_e…_c…[_se]`` token, then the activation."""
        expansion = f"_e{format_decimal(self.expansion)}" if self.block == "ir" else ""
        text = f"{self.block}_r{self.depth}_k{self.kernel}_s{self.stride}{expansion}_c{self.width}"
        if self.se:
            text += f"_{SE_FLAG}"
        if self.activation != DEFAULT_ACTIVATION:
            text += f"_{self.activation}"
        return text


@dataclass(frozen=True)
class Arch:
    """A MobileNet-style network: a 3x3 stem, stages of ``ds`` or ``ir`` blocks, and a head.

    ``head_width`` (1x1 conv + BN + act before the pool) and ``head_hidden`` (units of a layer
    with bias and act after the pool) are None when absent, as in MobileNetV1.
    """

    resolution: int
    in_channels: int
    num_classes: int
    stem_width: int
    stages: tuple[Stage, ...]
    stem_stride: int = DEFAULT_STEM_STRIDE
    stem_activation: str = DEFAULT_ACTIVATION
    head_width: int | None = None
    head_hidden: int | None = None
    head_activation: str = DEFAULT_ACTIVATION

    def __post_init__(self) -> None:
        for name in ("resolution", "in_channels", "num_classes", "stem_width"):
            _check_positive_int("arch", name, getattr(self, name))
        if self.stem_stride not in VALID_STRIDES:
            raise ValueError(f"stem stride must be one of {VALID_STRIDES}, got {self.stem_stride}")
        check_activation("stem", self.stem_activation)
        for name in ("head_width", "head_hidden"):
            if getattr(self, name) is not None:
                _check_positive_int("arch", name, getattr(self, name))
        check_activation("head", self.head_activation)
        if (
            self.head_width is None
            and self.head_hidden is None
            and self.head_activation != DEFAULT_ACTIVATION
        ):
            # A pool and a linear classifier have no activation: two values, one network.
            raise ValueError(
                f"head activation {self.head_activation!r} needs a head conv or hidden layer "
                "(head_width or head_hidden)"
            )
        if not isinstance(self.stages, tuple) or not self.stages:
            raise ValueError(f"arch needs a non-empty tuple of stages, got {self.stages!r}")
        for stage in self.stages:
            if not isinstance(stage, Stage):
                raise TypeError(f"arch stages must be Stage values, got {stage!r}")

    @property
    def depth(self) -> int:
        """Total number of blocks over all stages."""
        return sum(stage.depth for stage in self.stages)

    @property
    def block_types(self) -> tuple[str, ...]:
        """The block types the stages use, in `BLOCKS` order (e.g. ``('ds',)``)."""
        used = {stage.block for stage in self.stages}
        return tuple(block for block in BLOCKS if block in used)

    @property
    def activations(self) -> tuple[str, ...]:
        """The activations the network uses, in `ACTIVATIONS` order (e.g. ``('relu',)``)."""
        used = {self.stem_activation, *(stage.activation for stage in self.stages)}
        if self.head_width is not None or self.head_hidden is not None:
            used.add(self.head_activation)
        return tuple(activation for activation in ACTIVATIONS if activation in used)

    @property
    def total_stride(self) -> int:
        """Product of the stem's and every stage's stride: input size / last feature map size."""
        return self.stem_stride * math.prod(stage.stride for stage in self.stages)

    def to_str(self) -> str:
        """The canonical string form (see the module docstring)."""
        stem = f"stem_r{self.resolution}_i{self.in_channels}_c{self.stem_width}"
        if self.stem_stride != DEFAULT_STEM_STRIDE:
            stem += f"_s{self.stem_stride}"
        if self.stem_activation != DEFAULT_ACTIVATION:
            stem += f"_{self.stem_activation}"
        head = "head"
        if self.head_width is not None:
            head += f"_c{self.head_width}"
        if self.head_hidden is not None:
            head += f"_h{self.head_hidden}"
        head += f"_n{self.num_classes}"
        if self.head_activation != DEFAULT_ACTIVATION:
            head += f"_{self.head_activation}"
        body = ":".join(stage.to_str() for stage in self.stages)
        return f"{stem}:{body}:{head}"

    def __str__(self) -> str:
        return self.to_str()

    @classmethod
    def parse(cls, text: str) -> Arch:
        """Parse the string form; any unknown or malformed token raises ``ValueError``."""
        if not isinstance(text, str):
            raise TypeError(f"arch string must be a str, got {type(text).__name__}")
        blocks = text.strip().split(":")
        if len(blocks) < 3:
            raise ValueError(
                f"arch string {text!r} needs 'stem_…', at least one 'ds_…' or 'ir_…' stage and "
                "'head_…', separated by ':'"
            )
        stem = _parse_block(blocks[0], "stem", text)
        head = _parse_block(blocks[-1], "head", text)
        stages = []
        for block in blocks[1:-1]:
            kind = block.split("_", 1)[0]
            if kind not in BLOCKS:
                raise ValueError(
                    f"unknown block {block!r} in {text!r}: expected a 'ds_…' or 'ir_…' stage here"
                )
            fields = _parse_block(block, kind, text)
            try:
                stages.append(
                    Stage(
                        width=fields["c"],
                        depth=fields["r"],
                        kernel=fields["k"],
                        stride=fields["s"],
                        block=kind,
                        expansion=fields.get("e", 1.0),
                        se=SE_FLAG in fields,
                        activation=fields.get("act", DEFAULT_ACTIVATION),
                    )
                )
            except ValueError as err:
                raise ValueError(f"bad stage {block!r} in {text!r}: {err}") from None
        try:
            return cls(
                resolution=stem["r"],
                in_channels=stem["i"],
                num_classes=head["n"],
                stem_width=stem["c"],
                stages=tuple(stages),
                stem_stride=stem.get("s", DEFAULT_STEM_STRIDE),
                stem_activation=stem.get("act", DEFAULT_ACTIVATION),
                head_width=head.get("c"),
                head_hidden=head.get("h"),
                head_activation=head.get("act", DEFAULT_ACTIVATION),
            )
        except ValueError as err:
            raise ValueError(f"bad arch {text!r}: {err}") from None


@dataclass(frozen=True)
class _Grammar:
    """The tokens of one block kind: required and optional keys, decimal keys, flags."""

    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    decimal: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()

    def expected(self) -> str:
        keys = ", ".join((*self.required, *self.optional, *self.flags))
        return f"{keys} or an activation ({', '.join(ACTIVATIONS)})"


_GRAMMAR = {
    "stem": _Grammar(required=("r", "i", "c"), optional=("s",)),
    "ds": _Grammar(required=("r", "k", "s", "c")),
    "ir": _Grammar(required=("r", "k", "s", "e", "c"), decimal=("e",), flags=(SE_FLAG,)),
    "head": _Grammar(required=("n",), optional=("c", "h")),
}


def _parse_block(block: str, kind: str, text: str) -> dict[str, Any]:
    """Parse ``kind_k1V_k2V…`` strictly: every required key once, optional keys at most once.

    Returns key -> value (int, or float for decimal keys), ``True`` for each flag present and
    ``"act"`` -> the activation word if one is given.
    """
    tokens = block.split("_")
    if tokens[0] != kind:
        raise ValueError(f"unknown block {block!r} in {text!r}: expected a '{kind}_…' block here")
    grammar = _GRAMMAR[kind]
    fields: dict[str, Any] = {}
    for token in tokens[1:]:
        # Whole words first: 'relu' is an activation, not key 'r' with value 'elu'.
        if token in ACTIVATIONS or token in grammar.flags:
            key: str = "act" if token in ACTIVATIONS else token
            if key in fields:
                raise ValueError(
                    f"duplicate token {token!r} in {text!r}: "
                    f"{'an activation' if key == 'act' else repr(key)} given twice"
                )
            fields[key] = token if key == "act" else True
            continue
        key, value = token[:1], token[1:]
        if key not in grammar.required + grammar.optional:
            raise ValueError(
                f"unknown token {token!r} in {text!r}: expected one of {grammar.expected()}"
            )
        if key in grammar.decimal:
            if not _DECIMAL.fullmatch(value):
                raise ValueError(
                    f"malformed token {token!r} in {text!r}: '{key}' takes a number >= 1 with at "
                    f"most two decimals and no trailing zeros, e.g. {key}6 or {key}2.5"
                )
            parsed: int | float = float(value)
        elif _INT.fullmatch(value):
            parsed = int(value)
        else:
            raise ValueError(
                f"malformed token {token!r} in {text!r}: '{key}' takes a positive integer"
            )
        if key in fields:
            raise ValueError(f"duplicate token {token!r} in {text!r}: '{key}' given twice")
        fields[key] = parsed
    missing = [key for key in grammar.required if key not in fields]
    if missing:
        raise ValueError(f"block {block!r} in {text!r} is missing {', '.join(missing)}")
    return fields
