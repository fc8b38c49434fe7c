"""Cost models that price a signature with no measured entry (used by the ARM tables).

A cost model is plain data stored in the table: per op kind, a list of feature names and their
coefficients; latency_ms = sum(coefficient * feature(signature)). Features are the names in
``FEATURES``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from latency.signature import Signature

FEATURES: dict[str, Callable[[Signature], float]] = {
    "one": lambda s: 1.0,
    "macs": lambda s: float(s.macs),
    "bytes_moved": lambda s: float(s.bytes_moved),
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
