"""Network definitions that give a profiled op sequence its shapes: ProxylessNAS, MobileNetV1.

A TFLite op profile lists node types and times but no shapes. The shapes come from the definition
of the network that was profiled: each definition is a sequence of op slots (the TFLite node types
expected, in run order, and the hwnas `Signature` of the layer each op belongs to), and the
profile is matched against it slot by slot (`latency.arm.tflite.match_profile`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from latency.signature import Signature
from space import Arch, baseline_name, layers, mobilenet_v1
from space.baselines import PAPER_ALPHAS, PAPER_RESOLUTIONS

#: TFLite node types of the ops hwnas layers are made of (optional glue ops included).
CONV = ("CONV_2D",)
DEPTHWISE = ("DEPTHWISE_CONV_2D",)
POOL = ("AVERAGE_POOL_2D", "MEAN")
CLASSIFIER = ("CONV_2D", "FULLY_CONNECTED")
FLATTEN = ("RESHAPE", "SQUEEZE")

PROXYLESSNAS_MOBILE = "proxylessnas-mobile"

#: ProxylessNAS-Mobile (Cai, Zhu and Han, "ProxylessNAS: Direct Neural Architecture Search on
#: Target Task and Hardware", ICLR 2019, Figure 4; released as ``proxyless_mobile`` in
#: mit-han-lab/proxylessnas, proxyless_nas/model_zoo.py). Inverted-residual blocks as
#: (expand ratio, depthwise kernel, stride, output channels), after a 3x3 stride-2 stem of 32
#: channels on a 224x224x3 input; then a 1x1 conv to 1280, global average pool, 1000 classes.
#: A block has an identity shortcut (a TFLite ADD) when its stride is 1 and its input and output
#: widths agree; the first block (expand 1) has no expansion conv.
PROXYLESSNAS_MOBILE_BLOCKS: tuple[tuple[int, int, int, int], ...] = (
    (1, 3, 1, 16),
    (3, 5, 2, 24),
    (3, 3, 1, 24),
    (3, 7, 2, 40),
    (3, 3, 1, 40),
    (3, 5, 1, 40),
    (3, 5, 1, 40),
    (6, 7, 2, 80),
    (3, 5, 1, 80),
    (3, 5, 1, 80),
    (3, 5, 1, 80),
    (6, 5, 1, 96),
    (3, 5, 1, 96),
    (3, 5, 1, 96),
    (3, 5, 1, 96),
    (6, 7, 2, 192),
    (6, 7, 1, 192),
    (3, 7, 1, 192),
    (3, 7, 1, 192),
    (6, 7, 1, 320),
)
PROXYLESSNAS_MOBILE_STEM = 32
PROXYLESSNAS_MOBILE_FEATURE_MIX = 1280
PROXYLESSNAS_MOBILE_CITATION = (
    "Cai, Zhu and Han, ProxylessNAS: Direct Neural Architecture Search on Target Task and "
    "Hardware, ICLR 2019 (Figure 4, 'mobile'); mit-han-lab/proxylessnas proxyless_mobile"
)
MOBILENET_V1_CITATION = (
    "Howard et al., MobileNets: Efficient Convolutional Neural Networks for Mobile Vision "
    "Applications, 2017 (Table 1), as built by space.mobilenet_v1"
)

_BLOCK_TOKEN = re.compile(r"up_(\d+)-ks_(\d+)-st_(\d+)")


@dataclass(frozen=True)
class OpSlot:
    """One expected TFLite op: its accepted node types and the layer it belongs to.

    Slots that share ``layer`` are summed into one measurement (a head is pool + classifier +
    flatten). ``signature`` is None for ops that no hwnas layer has (residual ADD, SOFTMAX,
    QUANTIZE); they are kept in the accounting but give no table entry. ``block_token``, when
    set, must agree with a ``up_E-ks_K-st_S`` token in the op's name if the name carries one.
    """

    layer: str
    node_types: tuple[str, ...]
    signature: Signature | None
    optional: bool = False
    block_token: str | None = None


@dataclass(frozen=True)
class NetworkDefinition:
    """A network as the run-order sequence of op slots that its TFLite profile must follow."""

    name: str
    citation: str
    slots: tuple[OpSlot, ...]

    def layer_signatures(self) -> list[tuple[str, Signature | None]]:
        """Each layer label once, in run order, with its signature (None: no hwnas op kind)."""
        seen: dict[str, Signature | None] = {}
        for slot in self.slots:
            if slot.layer not in seen:
                seen[slot.layer] = slot.signature
        return list(seen.items())


def _conv_slots(layer: str, signature: Signature, kind: tuple[str, ...]) -> list[OpSlot]:
    # An exporter that does not fold 'same' padding into the conv emits an explicit PAD: it is
    # part of that layer's cost on the runtime, so it is summed into the layer.
    return [
        OpSlot(layer, ("PAD",), signature, optional=True),
        OpSlot(layer, kind, signature),
    ]


def _head_slots(signature: Signature) -> list[OpSlot]:
    return [
        OpSlot("head", POOL, signature),
        OpSlot("head", FLATTEN, signature, optional=True),
        OpSlot("head", CLASSIFIER, signature),
        OpSlot("head", FLATTEN, signature, optional=True),
        OpSlot("softmax", ("SOFTMAX",), None, optional=True),
        OpSlot("output", ("DEQUANTIZE",), None, optional=True),
    ]


def _input_slots() -> list[OpSlot]:
    # A quantized model may quantize its input; an NCHW export may transpose it to NHWC.
    return [
        OpSlot("input", ("QUANTIZE",), None, optional=True),
        OpSlot("input", ("TRANSPOSE",), None, optional=True),
    ]


def proxylessnas_mobile(dtype: str = "fp32", activation: str = "relu6") -> NetworkDefinition:
    """ProxylessNAS-Mobile at 224x224x3, 1000 classes (see `PROXYLESSNAS_MOBILE_BLOCKS`)."""

    def sig(op: str, size: int, cin: int, cout: int, kernel: int, stride: int) -> Signature:
        return Signature(op, size, size, cin, cout, kernel, stride, activation, dtype)

    slots = _input_slots()
    size = 224
    slots += _conv_slots("stem", sig("stem", size, 3, PROXYLESSNAS_MOBILE_STEM, 3, 2), CONV)
    size, channels = size // 2, PROXYLESSNAS_MOBILE_STEM
    for index, (expand, kernel, stride, width) in enumerate(PROXYLESSNAS_MOBILE_BLOCKS):
        token = f"up_{expand}-ks_{kernel}-st_{stride}"
        prefix = f"b{index}"
        middle = channels * expand
        if expand != 1:
            slots.append(
                OpSlot(
                    f"{prefix}.expand",
                    CONV,
                    sig("pointwise", size, channels, middle, 1, 1),
                    block_token=token,
                )
            )
        out_size = -(-size // stride)
        dw = sig("depthwise", size, middle, middle, kernel, stride)
        slots += [
            OpSlot(f"{prefix}.dw", ("PAD",), dw, optional=True),
            OpSlot(f"{prefix}.dw", DEPTHWISE, dw, block_token=token),
            OpSlot(
                f"{prefix}.project",
                CONV,
                sig("pointwise", out_size, middle, width, 1, 1),
                block_token=token,
            ),
        ]
        if stride == 1 and channels == width:
            slots.append(OpSlot(f"{prefix}.add", ("ADD",), None, block_token=token))
        size, channels = out_size, width
    slots.append(
        OpSlot(
            "feature_mix",
            CONV,
            sig("pointwise", size, channels, PROXYLESSNAS_MOBILE_FEATURE_MIX, 1, 1),
        )
    )
    slots += _head_slots(sig("head", size, PROXYLESSNAS_MOBILE_FEATURE_MIX, 1000, size, 1))
    return NetworkDefinition(PROXYLESSNAS_MOBILE, PROXYLESSNAS_MOBILE_CITATION, tuple(slots))


def arch_definition(
    arch: Arch, *, name: str | None = None, dtype: str = "fp32", activation: str = "relu"
) -> NetworkDefinition:
    """An hwnas architecture (e.g. one a user exported and profiled) as its op-slot sequence."""
    slots = _input_slots()
    for layer in layers(arch):
        signature = Signature(
            layer.kind,
            layer.in_size,
            layer.in_size,
            layer.in_channels,
            layer.out_channels,
            layer.kernel,
            layer.stride,
            activation,
            dtype,
        )
        if layer.kind == "stem":
            slots += _conv_slots(layer.name, signature, CONV)
        elif layer.kind == "depthwise":
            slots += _conv_slots(layer.name, signature, DEPTHWISE)
        elif layer.kind == "pointwise":
            slots.append(OpSlot(layer.name, CONV, signature))
        else:
            slots += _head_slots(signature)
    return NetworkDefinition(name or arch.to_str(), MOBILENET_V1_CITATION, tuple(slots))


def known_networks() -> tuple[str, ...]:
    """Names accepted by `network_definition`."""
    mobilenets = [baseline_name(a, r) for a in PAPER_ALPHAS for r in PAPER_RESOLUTIONS]
    return (PROXYLESSNAS_MOBILE, *mobilenets)


def network_definition(
    name: str, *, dtype: str = "fp32", activation: str = "relu6"
) -> NetworkDefinition:
    """The definition of a published network by name; unknown names raise ``ValueError``."""
    if name == PROXYLESSNAS_MOBILE:
        return proxylessnas_mobile(dtype, activation)
    for alpha in PAPER_ALPHAS:
        for resolution in PAPER_RESOLUTIONS:
            if name == baseline_name(alpha, resolution):
                return arch_definition(
                    mobilenet_v1(alpha, resolution), name=name, dtype=dtype, activation=activation
                )
    raise ValueError(f"unknown network {name!r}: expected one of {', '.join(known_networks())}")


def block_token(name: str) -> str | None:
    """The ``up_E-ks_K-st_S`` token of a ProxylessNAS op name, if it carries one."""
    match = _BLOCK_TOKEN.search(name)
    return match.group(0) if match else None
