"""Architectures as values: the `Arch` dataclass, its canonical string form and channel rounding.

String form (one line, shell-safe), for MobileNetV1 1.0-224::

    stem_r224_i3_c32:ds_r1_k3_s1_c64:ds_r2_k3_s2_c128:ds_r2_k3_s2_c256:ds_r6_k3_s2_c512:ds_r2_k3_s2_c1024:head_n1000

* ``stem``: input resolution ``r``, input channels ``i``, stem conv width ``c`` (3x3, stride 2).
* ``ds``: one stage of depthwise-separable blocks: depth ``r`` (repeats), depthwise kernel ``k``,
  stride ``s`` of the first block, output width ``c``.
* ``head``: global average pool and a linear classifier with ``n`` classes.

Each block needs every one of its keys exactly once; keys may come in any order but the printer
writes the canonical order above, so ``Arch.parse(a.to_str()) == a`` for every architecture.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

STEM_KERNEL = 3
STEM_STRIDE = 2
CHANNEL_DIVISOR = 8
_VALID_STRIDES = (1, 2)
_INT = re.compile(r"[1-9][0-9]*")


def make_divisible(value: float, divisor: int = CHANNEL_DIVISOR) -> int:
    """Round a channel count to the nearest multiple of ``divisor``, never more than 10 % below it.

    timm's ``make_divisible`` semantics. The single rounding rule used by the search space, the
    model builder and the latency keys, so that they cannot drift apart.
    """
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"channel count must be a positive finite number, got {value!r}")
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * value:
        rounded += divisor
    return rounded


@dataclass(frozen=True)
class Stage:
    """A stage of ``depth`` depthwise-separable blocks; only the first block strides."""

    width: int
    depth: int
    kernel: int
    stride: int

    def __post_init__(self) -> None:
        for name in ("width", "depth", "kernel", "stride"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"stage {name} must be a positive integer, got {value!r}")
        if self.kernel % 2 == 0:
            raise ValueError(f"depthwise kernel must be odd, got {self.kernel}")
        if self.stride not in _VALID_STRIDES:
            raise ValueError(f"stage stride must be one of {_VALID_STRIDES}, got {self.stride}")

    def to_str(self) -> str:
        """Canonical ``ds_r{depth}_k{kernel}_s{stride}_c{width}`` token."""
        return f"ds_r{self.depth}_k{self.kernel}_s{self.stride}_c{self.width}"


@dataclass(frozen=True)
class Arch:
    """A MobileNetV1-style network: 3x3 stride-2 stem, depthwise-separable stages, head."""

    resolution: int
    in_channels: int
    num_classes: int
    stem_width: int
    stages: tuple[Stage, ...]

    def __post_init__(self) -> None:
        for name in ("resolution", "in_channels", "num_classes", "stem_width"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"arch {name} must be a positive integer, got {value!r}")
        if not isinstance(self.stages, tuple) or not self.stages:
            raise ValueError(f"arch needs a non-empty tuple of stages, got {self.stages!r}")
        for stage in self.stages:
            if not isinstance(stage, Stage):
                raise TypeError(f"arch stages must be Stage values, got {stage!r}")

    @property
    def depth(self) -> int:
        """Total number of depthwise-separable blocks."""
        return sum(stage.depth for stage in self.stages)

    def to_str(self) -> str:
        """The canonical string form (see the module docstring)."""
        stem = f"stem_r{self.resolution}_i{self.in_channels}_c{self.stem_width}"
        body = ":".join(stage.to_str() for stage in self.stages)
        return f"{stem}:{body}:head_n{self.num_classes}"

    def __str__(self) -> str:
        return self.to_str()

    @classmethod
    def parse(cls, text: str) -> Arch:
        """Parse the canonical string form; any unknown or malformed token raises ``ValueError``."""
        if not isinstance(text, str):
            raise TypeError(f"arch string must be a str, got {type(text).__name__}")
        blocks = text.strip().split(":")
        if len(blocks) < 3:
            raise ValueError(
                f"arch string {text!r} needs 'stem_…', at least one 'ds_…' stage and 'head_…', "
                "separated by ':'"
            )
        stem = _parse_block(blocks[0], "stem", ("r", "i", "c"), text)
        head = _parse_block(blocks[-1], "head", ("n",), text)
        stages = []
        for block in blocks[1:-1]:
            fields = _parse_block(block, "ds", ("r", "k", "s", "c"), text)
            try:
                stages.append(
                    Stage(
                        width=fields["c"], depth=fields["r"], kernel=fields["k"], stride=fields["s"]
                    )
                )
            except ValueError as err:
                raise ValueError(f"bad stage {block!r} in {text!r}: {err}") from None
        return cls(
            resolution=stem["r"],
            in_channels=stem["i"],
            num_classes=head["n"],
            stem_width=stem["c"],
            stages=tuple(stages),
        )


def _parse_block(block: str, kind: str, keys: tuple[str, ...], text: str) -> dict[str, int]:
    """Parse ``kind_k1V_k2V…`` strictly: every key of ``keys`` once, positive integer values."""
    tokens = block.split("_")
    if tokens[0] != kind:
        raise ValueError(f"unknown block {block!r} in {text!r}: expected a '{kind}_…' block here")
    fields: dict[str, int] = {}
    expected = ", ".join(keys)
    for token in tokens[1:]:
        key, value = token[:1], token[1:]
        if key not in keys:
            raise ValueError(f"unknown token {token!r} in {text!r}: expected one of {expected}")
        if not _INT.fullmatch(value):
            raise ValueError(
                f"malformed token {token!r} in {text!r}: '{key}' takes a positive integer"
            )
        if key in fields:
            raise ValueError(f"duplicate token {token!r} in {text!r}: '{key}' given twice")
        fields[key] = int(value)
    missing = [key for key in keys if key not in fields]
    if missing:
        raise ValueError(f"block {block!r} in {text!r} is missing {', '.join(missing)}")
    return fields
