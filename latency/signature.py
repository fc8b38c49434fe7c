"""Layer signatures: the keys of a latency table, derived from `space.layers` (one rounding)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from space import Arch, Layer, layers

OpKind = Literal["stem", "depthwise", "pointwise", "head"]
OP_KINDS: tuple[str, ...] = ("stem", "depthwise", "pointwise", "head")
ACTIVATIONS: tuple[str, ...] = ("relu", "relu6")
DTYPES: tuple[str, ...] = ("fp32", "uint8", "int8")

_KEY = re.compile(
    r"(?P<op>stem|depthwise|pointwise|head)_h(?P<h>\d+)_w(?P<w>\d+)_ci(?P<ci>\d+)_co(?P<co>\d+)"
    r"_k(?P<k>\d+)_s(?P<s>\d+)_(?P<act>[a-z0-9]+)_(?P<dtype>[a-z0-9]+)"
)


@dataclass(frozen=True, order=True)
class Signature:
    """What determines a layer's latency: op kind, input size, channels, kernel, stride, act, dtype.

    For the head (global average pool + linear classifier) ``kernel`` is the pooled input size and
    ``out_channels`` the number of classes.
    """

    op: str
    in_h: int
    in_w: int
    in_channels: int
    out_channels: int
    kernel: int
    stride: int
    activation: str = "relu"
    dtype: str = "fp32"

    def __post_init__(self) -> None:
        if self.op not in OP_KINDS:
            raise ValueError(f"unknown op kind {self.op!r}: expected one of {', '.join(OP_KINDS)}")
        if self.activation not in ACTIVATIONS:
            raise ValueError(
                f"unknown activation {self.activation!r}: expected one of {', '.join(ACTIVATIONS)}"
            )
        if self.dtype not in DTYPES:
            raise ValueError(f"unknown dtype {self.dtype!r}: expected one of {', '.join(DTYPES)}")

    @property
    def key(self) -> str:
        """The table key, e.g. ``depthwise_h112_w112_ci32_co32_k3_s1_relu_fp32``."""
        return (
            f"{self.op}_h{self.in_h}_w{self.in_w}_ci{self.in_channels}_co{self.out_channels}"
            f"_k{self.kernel}_s{self.stride}_{self.activation}_{self.dtype}"
        )

    def __str__(self) -> str:
        return self.key

    @classmethod
    def from_key(cls, key: str) -> Signature:
        """Parse a table key; a malformed key raises ``ValueError`` quoting it."""
        match = _KEY.fullmatch(key)
        if match is None:
            raise ValueError(
                f"malformed signature key {key!r}: expected "
                "'<op>_h<H>_w<W>_ci<C>_co<C>_k<K>_s<S>_<activation>_<dtype>'"
            )
        return cls(
            op=match["op"],
            in_h=int(match["h"]),
            in_w=int(match["w"]),
            in_channels=int(match["ci"]),
            out_channels=int(match["co"]),
            kernel=int(match["k"]),
            stride=int(match["s"]),
            activation=match["act"],
            dtype=match["dtype"],
        )

    @property
    def out_h(self) -> int:
        """Output height ('same' padding): ceil(in_h / stride); 1 for the head."""
        return 1 if self.op == "head" else -(-self.in_h // self.stride)

    @property
    def out_w(self) -> int:
        """Output width ('same' padding): ceil(in_w / stride); 1 for the head."""
        return 1 if self.op == "head" else -(-self.in_w // self.stride)

    @property
    def macs(self) -> int:
        """Multiply-adds, as counted by `space.layers`."""
        if self.op == "head":
            return self.in_channels * self.out_channels
        per_pixel = self.kernel * self.kernel
        if self.op == "depthwise":
            return self.out_h * self.out_w * self.in_channels * per_pixel
        return self.out_h * self.out_w * self.in_channels * self.out_channels * per_pixel

    @property
    def bytes_moved(self) -> int:
        """Bytes of input, output and weights at this dtype (a lower bound on memory traffic)."""
        width = 4 if self.dtype == "fp32" else 1
        inputs = self.in_h * self.in_w * self.in_channels
        if self.op == "head":
            outputs = self.out_channels
            weights = self.in_channels * self.out_channels + self.out_channels
        elif self.op == "depthwise":
            outputs = self.out_h * self.out_w * self.in_channels
            weights = self.in_channels * self.kernel * self.kernel
        else:
            outputs = self.out_h * self.out_w * self.out_channels
            weights = self.in_channels * self.out_channels * self.kernel * self.kernel
        return width * (inputs + outputs + weights)


def layer_signature(layer: Layer, activation: str = "relu", dtype: str = "fp32") -> Signature:
    """The signature of one layer of `space.layers`."""
    return Signature(
        op=layer.kind,
        in_h=layer.in_size,
        in_w=layer.in_size,
        in_channels=layer.in_channels,
        out_channels=layer.out_channels,
        kernel=layer.kernel,
        stride=layer.stride,
        activation=activation,
        dtype=dtype,
    )


def arch_signatures(arch: Arch, activation: str = "relu", dtype: str = "fp32") -> list[Signature]:
    """The signature of every layer of ``arch``, in execution order (repeats kept)."""
    return [layer_signature(layer, activation, dtype) for layer in layers(arch)]
