"""Cost models that price a signature with no measured entry (used by the ARM tables).

A cost model is plain data stored in the table: per op kind, a list of feature names and their
coefficients; latency_ms = sum(coefficient * feature(signature)). Features are the names in
``FEATURES`` (raw units: multiply-adds, bytes at the signature's dtype, 1 for the intercept).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from latency.signature import Signature
from space.layers import se_width

#: Ops a squeeze-and-excite runs as in TFLite: pool (MEAN), two 1x1 convs, the gating multiply.
SE_OPS = 4


def _width(s: Signature) -> int:
    return 4 if s.dtype == "fp32" else 1


def input_bytes(s: Signature) -> float:
    """Bytes of the layer's or block's input (for the head: the feature map it pools)."""
    return float(_width(s) * s.in_h * s.in_w * s.in_channels)


def output_bytes(s: Signature) -> float:
    """Bytes of the layer's or block's output (for the head: the logits)."""
    if s.op == "head":
        return float(_width(s) * s.out_channels)
    return float(_width(s) * s.out_h * s.out_w * s.out_channels)


def weight_bytes(s: Signature) -> float:
    """Bytes of the weights (an ir block: all its convs'; the head: its layers' weights and
    biases)."""
    if s.op == "head":
        return float(_width(s) * (s.weight_count + s.mid_channels + s.out_channels))
    return float(_width(s) * s.weight_count)


def gemm_lhs_bytes(s: Signature) -> float:
    """Bytes of the GEMM's activation operand as an im2col runtime lays it out.

    A kxk conv reads each input pixel k*k times through im2col; a 1x1 conv reads its input once;
    the head's layers read the pooled vector (and the hidden one); a depthwise conv is no GEMM
    (its input bytes). An ir block: its expansion's input, its depthwise conv's input and its
    projection's input.
    """
    width = _width(s)
    if s.op == "head":
        return float(width * (s.in_channels + s.mid_channels))
    if s.op == "depthwise":
        return input_bytes(s)
    if s.op == "ir":
        expansion = s.in_h * s.in_w * s.in_channels if s.mid_channels != s.in_channels else 0
        depthwise = s.in_h * s.in_w * s.mid_channels
        return float(width * (expansion + depthwise + s.out_h * s.out_w * s.mid_channels))
    return float(width * s.out_h * s.out_w * s.in_channels * s.kernel * s.kernel)


# -- inverted-residual blocks (0 for other kinds unless said) --------------------------------------


def _expands(s: Signature) -> bool:
    return s.op == "ir" and s.mid_channels != s.in_channels


def expand_macs(s: Signature) -> float:
    """Multiply-adds of an ir block's 1x1 expansion (0 without one)."""
    return float(s.in_h * s.in_w * s.in_channels * s.mid_channels) if _expands(s) else 0.0


def depthwise_macs(s: Signature) -> float:
    """Multiply-adds of an ir block's depthwise conv."""
    return float(s.out_h * s.out_w * s.mid_channels * s.kernel**2) if s.op == "ir" else 0.0


def project_macs(s: Signature) -> float:
    """Multiply-adds of an ir block's 1x1 projection."""
    return float(s.out_h * s.out_w * s.mid_channels * s.out_channels) if s.op == "ir" else 0.0


def expand_output_bytes(s: Signature) -> float:
    """Bytes an ir block's expansion writes (0 without one)."""
    return float(_width(s) * s.in_h * s.in_w * s.mid_channels) if _expands(s) else 0.0


def depthwise_input_bytes(s: Signature) -> float:
    """Bytes an ir block's depthwise conv reads."""
    return float(_width(s) * s.in_h * s.in_w * s.mid_channels) if s.op == "ir" else 0.0


def depthwise_output_bytes(s: Signature) -> float:
    """Bytes an ir block's depthwise conv writes (and its projection reads)."""
    return float(_width(s) * s.out_h * s.out_w * s.mid_channels) if s.op == "ir" else 0.0


def residual_bytes(s: Signature) -> float:
    """Bytes of an ir block's residual add (0 without a shortcut)."""
    return output_bytes(s) if s.residual else 0.0


def se_elements(s: Signature) -> float:
    """Elements squeeze-and-excite pools and rescales (0 without SE)."""
    return float(s.out_h * s.out_w * s.mid_channels) if s.se else 0.0


def se_macs(s: Signature) -> float:
    """Multiply-adds of squeeze-and-excite's two 1x1 layers on the pooled vector."""
    return float(2 * s.mid_channels * se_width(s.mid_channels)) if s.se else 0.0


def se_one(s: Signature) -> float:
    """1 for a block with squeeze-and-excite."""
    return 1.0 if s.se else 0.0


def hswish_elements(s: Signature) -> float:
    """Elements a separate h-swish op rewrites (TFLite fuses ReLU/ReLU6 into the conv, not
    h-swish): an ir block's expansion and depthwise outputs, a conv's output."""
    if s.activation != "hswish" or s.op == "head":
        return 0.0
    if s.op != "ir":
        return output_bytes(s) / _width(s)
    expanded = s.in_h * s.in_w * s.mid_channels if _expands(s) else 0
    return float(expanded + s.out_h * s.out_w * s.mid_channels)


def tflite_ops(s: Signature) -> float:
    """TFLite ops the signature runs as: its convs, an ir block's add and SE, each h-swish."""
    if s.op == "head":
        return 2.0 + bool(s.mid_channels)  # pool, classifier, the hidden layer if any
    hswish = hswish_elements(s) > 0
    if s.op != "ir":
        return 1.0 + hswish
    convs = 3 if _expands(s) else 2
    activations = (2 if _expands(s) else 1) if hswish else 0
    return float(convs + s.residual + (SE_OPS if s.se else 0) + activations)


FEATURES: dict[str, Callable[[Signature], float]] = {
    "one": lambda s: 1.0,
    "macs": lambda s: float(s.macs),
    "bytes_moved": lambda s: float(s.bytes_moved),
    "input_bytes": input_bytes,
    "output_bytes": output_bytes,
    "weight_bytes": weight_bytes,
    "gemm_lhs_bytes": gemm_lhs_bytes,
    "tflite_ops": tflite_ops,
    "expand_macs": expand_macs,
    "depthwise_macs": depthwise_macs,
    "project_macs": project_macs,
    "expand_output_bytes": expand_output_bytes,
    "depthwise_input_bytes": depthwise_input_bytes,
    "depthwise_output_bytes": depthwise_output_bytes,
    "residual_bytes": residual_bytes,
    "se_elements": se_elements,
    "se_macs": se_macs,
    "se_one": se_one,
    "hswish_elements": hswish_elements,
}


def evaluate(cost_model: dict[str, Any], signature: Signature) -> float:
    """Milliseconds the cost model predicts for ``signature``."""
    per_kind = cost_model.get("per_op", {}).get(signature.op)
    if per_kind is None:
        from latency.table import MissingEntryError

        raise MissingEntryError(
            f"the cost model has no fit for op kind {signature.op!r} (signature {signature.key})"
        )
    total = 0.0
    for name, coefficient in zip(per_kind["features"], per_kind["coefficients"], strict=True):
        feature = FEATURES.get(name)
        if feature is None:
            raise ValueError(
                f"unknown cost-model feature {name!r}: expected one of {', '.join(FEATURES)}"
            )
        total += coefficient * feature(signature)
    return max(total, 0.0)
