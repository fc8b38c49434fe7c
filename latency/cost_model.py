"""Cost models that price a signature with no measured entry (used by the ARM tables).

A cost model is plain data stored in the table: per op kind, a list of feature names and their
coefficients; latency_ms = sum(coefficient * feature(signature)). Features are the names in
``FEATURES`` (raw units: multiply-adds, bytes at the signature's dtype, 1 for the intercept).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from latency.signature import Signature


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


FEATURES: dict[str, Callable[[Signature], float]] = {
    "one": lambda s: 1.0,
    "macs": lambda s: float(s.macs),
    "bytes_moved": lambda s: float(s.bytes_moved),
    "input_bytes": input_bytes,
    "output_bytes": output_bytes,
    "weight_bytes": weight_bytes,
    "gemm_lhs_bytes": gemm_lhs_bytes,
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
