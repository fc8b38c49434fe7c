"""Signatures: the keys of a latency table, derived from `space.blocks` (one walk, one rounding).

A network is priced as a sum over its signatures, in execution order:

* ``stem``: the 3x3 stem conv + act;
* ``depthwise`` and ``pointwise``: the two layers of a MobileNetV1 depthwise-separable block, one
  signature each (also the head's 1x1 conv of MobileNetV2/V3, a pointwise conv + act);
* ``ir``: a whole inverted-residual block (MobileNetV2/V3) as one signature: input size, input,
  middle and output widths (``cm`` equal to ``ci``: no expansion conv), kernel, stride,
  squeeze-and-excite, residual add and activation. One graph per block lets a runtime fuse across
  its layers (the residual add into the projection conv) as it does in the whole network, and
  matches how published ARM tables are keyed (OFA's and ProxylessNAS' ``expanded_conv`` entries);
* ``head``: global average pool, the hidden layer + act if any (width ``cm``; MobileNetV3), and
  the classifier. ``kernel`` is the pooled feature map's size.

Keys, e.g.::

    depthwise_h112_w112_ci32_co32_k3_s1_relu_fp32
    ir_h14_w14_ci80_cm480_co112_k3_s1_se1_res0_hswish_fp32
    head_h7_w7_ci960_cm1280_co1000_k7_s1_hswish_fp32

MobileNetV1's keys are unchanged. Every layer is keyed with its own activation, except that a table
measured on ReLU6 networks (TFLite's MobileNets; its ``activation`` is relu6) prices hwnas' plain
ReLU layers as ReLU6 (see `arch_signatures`). The two are not free alike: on onnxruntime (this
machine, 1 thread) ``Clip(0, 6)`` after a conv costs 8-17 % more than ``Relu``
(``latency/bench/activation_cost.py``), so local tables measure each as it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from space import Arch, Layer, blocks
from space.layers import Block, se_width

OP_KINDS: tuple[str, ...] = ("stem", "depthwise", "pointwise", "ir", "head")
ACTIVATIONS: tuple[str, ...] = ("relu", "relu6", "hswish")
#: What a table may price the arch's plain ReLU layers as (its ``activation``).
RELU_PRICING: tuple[str, ...] = ("relu", "relu6")
DTYPES: tuple[str, ...] = ("fp32", "uint8", "int8")

_KEY = re.compile(
    r"(?P<op>stem|depthwise|pointwise|ir|head)_h(?P<h>\d+)_w(?P<w>\d+)_ci(?P<ci>\d+)"
    r"(?:_cm(?P<cm>\d+))?_co(?P<co>\d+)_k(?P<k>\d+)_s(?P<s>\d+)"
    r"(?:_se(?P<se>[01])_res(?P<res>[01]))?_(?P<act>[a-z0-9]+)_(?P<dtype>[a-z0-9]+)"
)


@dataclass(frozen=True, order=True)
class Signature:
    """What determines the latency of a layer or block (see the module docstring).

    ``mid_channels``: an ``ir`` block's middle width, or the head's hidden units (0: none).
    ``se`` and ``residual`` belong to ``ir`` blocks.
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
    mid_channels: int = 0
    se: bool = False
    residual: bool = False

    def __post_init__(self) -> None:
        if self.op not in OP_KINDS:
            raise ValueError(f"unknown op kind {self.op!r}: expected one of {', '.join(OP_KINDS)}")
        if self.activation not in ACTIVATIONS:
            raise ValueError(
                f"unknown activation {self.activation!r}: expected one of {', '.join(ACTIVATIONS)}"
            )
        if self.dtype not in DTYPES:
            raise ValueError(f"unknown dtype {self.dtype!r}: expected one of {', '.join(DTYPES)}")
        if self.op == "ir" and self.mid_channels < 1:
            raise ValueError(f"an ir signature needs its middle width, got {self.mid_channels}")
        if self.op not in ("ir", "head") and self.mid_channels:
            raise ValueError(f"a {self.op} signature has no middle width, got {self.mid_channels}")
        if self.op != "ir" and (self.se or self.residual):
            raise ValueError(f"squeeze-excite and residual belong to ir blocks, not {self.op}")
        if self.residual and (self.stride != 1 or self.in_channels != self.out_channels):
            raise ValueError(
                "a residual add needs stride 1 and equal input and output widths, got stride "
                f"{self.stride}, {self.in_channels} -> {self.out_channels}"
            )

    @property
    def key(self) -> str:
        """The table key, e.g. ``depthwise_h112_w112_ci32_co32_k3_s1_relu_fp32``."""
        middle = f"_cm{self.mid_channels}" if self.mid_channels else ""
        flags = f"_se{int(self.se)}_res{int(self.residual)}" if self.op == "ir" else ""
        return (
            f"{self.op}_h{self.in_h}_w{self.in_w}_ci{self.in_channels}{middle}"
            f"_co{self.out_channels}_k{self.kernel}_s{self.stride}{flags}"
            f"_{self.activation}_{self.dtype}"
        )

    def __str__(self) -> str:
        return self.key

    @classmethod
    def from_key(cls, key: str) -> Signature:
        """Parse a table key; a malformed key raises ``ValueError`` quoting it."""
        match = _KEY.fullmatch(key)
        if match is None or (match["op"] == "ir") != (match["se"] is not None):
            raise ValueError(
                f"malformed signature key {key!r}: expected "
                "'<op>_h<H>_w<W>_ci<C>[_cm<C>]_co<C>_k<K>_s<S>[_se<0|1>_res<0|1>]"
                "_<activation>_<dtype>' (se and res for ir blocks only)"
            )
        signature = cls(
            op=match["op"],
            in_h=int(match["h"]),
            in_w=int(match["w"]),
            in_channels=int(match["ci"]),
            out_channels=int(match["co"]),
            kernel=int(match["k"]),
            stride=int(match["s"]),
            activation=match["act"],
            dtype=match["dtype"],
            mid_channels=int(match["cm"] or 0),
            se=match["se"] == "1",
            residual=match["res"] == "1",
        )
        if signature.key != key:  # e.g. a leading zero or an explicit _cm0
            raise ValueError(f"signature key {key!r} is not canonical: expected {signature.key!r}")
        return signature

    @property
    def out_h(self) -> int:
        """Output height ('same' padding): ceil(in_h / stride); 1 for the head."""
        return 1 if self.op == "head" else -(-self.in_h // self.stride)

    @property
    def out_w(self) -> int:
        """Output width ('same' padding): ceil(in_w / stride); 1 for the head."""
        return 1 if self.op == "head" else -(-self.in_w // self.stride)

    def weight_shapes(self) -> list[tuple[int, ...]]:
        """Shapes of the weight tensors (biases excluded) of the ops the signature stands for."""
        ci, cm, co, k = self.in_channels, self.mid_channels, self.out_channels, self.kernel
        if self.op == "head":
            if cm:
                return [(cm, ci), (co, cm)]
            return [(co, ci)]
        if self.op == "depthwise":
            return [(ci, 1, k, k)]
        if self.op != "ir":
            return [(co, ci, k, k)]
        shapes: list[tuple[int, ...]] = []
        if cm != ci:
            shapes.append((cm, ci, 1, 1))
        shapes.append((cm, 1, k, k))
        if self.se:
            reduced = se_width(cm)
            shapes += [(reduced, cm, 1, 1), (cm, reduced, 1, 1)]
        shapes.append((co, cm, 1, 1))
        return shapes

    @property
    def macs(self) -> int:
        """Multiply-adds, as counted by `space.layers`."""
        if self.op == "head":
            return self.weight_count
        if self.op == "depthwise":
            return self.out_h * self.out_w * self.in_channels * self.kernel * self.kernel
        if self.op != "ir":
            per_pixel = self.in_channels * self.kernel * self.kernel
            return self.out_h * self.out_w * self.out_channels * per_pixel
        ci, cm, co, k = self.in_channels, self.mid_channels, self.out_channels, self.kernel
        out_pixels = self.out_h * self.out_w
        macs = out_pixels * cm * (k * k + co)
        if cm != ci:
            macs += self.in_h * self.in_w * ci * cm
        if self.se:
            macs += 2 * cm * se_width(cm)
        return macs

    @property
    def weight_count(self) -> int:
        """Number of weights (biases excluded)."""
        total = 0
        for shape in self.weight_shapes():
            count = 1
            for size in shape:
                count *= size
            total += count
        return total

    @property
    def bytes_moved(self) -> int:
        """Bytes of input, output and weights at this dtype (a lower bound on memory traffic)."""
        width = 4 if self.dtype == "fp32" else 1
        inputs = self.in_h * self.in_w * self.in_channels
        if self.op == "head":
            outputs = self.out_channels
            weights = self.weight_count + self.mid_channels + self.out_channels
        else:
            outputs = self.out_h * self.out_w * self.out_channels
            weights = self.weight_count
        return width * (inputs + outputs + weights)


def _priced_activation(activation: str | None, relu_as: str) -> str:
    """The key's activation: the layer's own (None: relu), a plain ReLU priced as ``relu_as``."""
    if relu_as not in RELU_PRICING:
        raise ValueError(
            f"a table prices ReLU layers as one of {', '.join(RELU_PRICING)}, got {relu_as!r}"
        )
    if activation is None or activation == "relu":
        return relu_as
    return activation


def layer_signature(layer: Layer, activation: str = "relu", dtype: str = "fp32") -> Signature:
    """The signature of one stem, depthwise, pointwise or head-conv layer of `space.layers`."""
    op = "pointwise" if layer.kind == "head_conv" else layer.kind
    return Signature(
        op=op,
        in_h=layer.in_size,
        in_w=layer.in_size,
        in_channels=layer.in_channels,
        out_channels=layer.out_channels,
        kernel=layer.kernel,
        stride=layer.stride,
        activation=_priced_activation(layer.activation, activation),
        dtype=dtype,
    )


def block_signatures(
    block: Block, activation: str = "relu", dtype: str = "fp32"
) -> list[Signature]:
    """The signatures of one block of `space.blocks`: one for an inverted residual, one per
    layer of the stem and of a depthwise-separable block, the head's 1x1 conv (a pointwise
    signature) and the rest of the head as one ``head`` signature.

    ``activation``: what plain ReLU layers are priced as, a table's ``activation``: relu (as they
    are) or relu6 (a table measured on ReLU6 networks). Other activations keep their own.
    """
    if block.kind == "ir":
        return [
            Signature(
                op="ir",
                in_h=block.in_size,
                in_w=block.in_size,
                in_channels=block.in_channels,
                out_channels=block.out_channels,
                kernel=block.kernel,
                stride=block.stride,
                activation=_priced_activation(block.activation, activation),
                dtype=dtype,
                mid_channels=block.mid_channels,
                se=block.se,
                residual=block.residual,
            )
        ]
    if block.kind != "head":
        return [layer_signature(layer, activation, dtype) for layer in block.layers]
    found = [
        layer_signature(layer, activation, dtype)
        for layer in block.layers
        if layer.kind == "head_conv"
    ]
    hidden = [layer for layer in block.layers if layer.kind == "hidden"]
    classifier = block.layers[-1]
    pooled = hidden[0] if hidden else classifier  # the layer that pools the feature map
    found.append(
        Signature(
            op="head",
            in_h=pooled.in_size,
            in_w=pooled.in_size,
            in_channels=pooled.in_channels,
            out_channels=classifier.out_channels,
            kernel=pooled.kernel,
            stride=1,
            activation=_priced_activation(pooled.activation, activation),
            dtype=dtype,
            mid_channels=hidden[0].out_channels if hidden else 0,
        )
    )
    return found


def arch_signatures(arch: Arch, activation: str = "relu", dtype: str = "fp32") -> list[Signature]:
    """The signature of every block or layer of ``arch``, in execution order (repeats kept).

    ``activation``: what plain ReLU layers are priced as (see `block_signatures`).
    """
    return [
        signature
        for block in blocks(arch)
        for signature in block_signatures(block, activation, dtype)
    ]
