"""Block-level cost model of inverted-residual blocks, fitted on published block timings.

An ``ir`` signature's time is modelled (`latency.arm.fit.fit_linear`) as a non-negative
combination of what the block does: multiply-adds of its expansion, depthwise and projection
convs, the activation and weight bytes they stream, the residual add, squeeze-and-excite's pooled
elements and 1x1 multiply-adds, and the elements a separate hard-swish op rewrites (TFLite fuses
ReLU/ReLU6 into the conv, not h-swish); the intercept is per TFLite op the block runs.

Held-out checks group the data so that no twin stays in the fit: `leave_group_out` with
`configuration` drops every input size of the held-out block's configuration (OFA times each
configuration at 17 resolutions); other groupings (one output width) test harder extrapolation.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Hashable, Sequence
from typing import Any

from latency.arm.fit import LinearFit, LooPoint, Point, error_summary, fit_linear
from latency.signature import Signature

IR_FEATURES = (
    "tflite_ops",
    "expand_macs",
    "depthwise_macs",
    "project_macs",
    "expand_output_bytes",
    "depthwise_input_bytes",
    "depthwise_output_bytes",
    "output_bytes",
    "weight_bytes",
    "residual_bytes",
    "se_elements",
    "se_macs",
    "se_one",
    "hswish_elements",
)
#: The features only squeeze-and-excite or h-swish blocks have: a device whose data has no such
#: block cannot fit them.
SE_HSWISH_FEATURES = ("se_elements", "se_macs", "se_one", "hswish_elements")


def block_type(signature: Signature) -> str:
    """The type errors are reported by: ir (expanding) or ir_e1, plus _se and _hs."""
    name = "ir" if signature.mid_channels != signature.in_channels else "ir_e1"
    return (
        name + ("_se" if signature.se else "") + ("_hs" if signature.activation == "hswish" else "")
    )


def configuration(signature: Signature) -> tuple[Hashable, ...]:
    """A block without its input size: widths, kernel, stride, SE, activation, shortcut."""
    s = signature
    return (
        s.in_channels,
        s.mid_channels,
        s.out_channels,
        s.kernel,
        s.stride,
        s.se,
        s.activation,
        s.residual,
    )


def leave_group_out(
    points: Sequence[Point],
    features: tuple[str, ...],
    group: Callable[[Signature], Hashable],
) -> list[LooPoint]:
    """Each point predicted by the model fitted without every point of its group (in order)."""
    fits: dict[Hashable, LinearFit] = {}
    result = []
    for signature, ms in points:
        key = group(signature)
        if key not in fits:
            fits[key] = fit_linear([p for p in points if group(p[0]) != key], features)
        result.append(LooPoint(signature.key, ms, fits[key].predict(signature)))
    return result


def per_type(held: Sequence[LooPoint]) -> dict[str, dict[str, Any]]:
    """Error summary (|error| %) of held-out block predictions, per block type."""
    types: dict[str, list[float]] = {}
    for point in held:
        types.setdefault(block_type(Signature.from_key(point.key)), []).append(point.error)
    return {name: error_summary(types[name]) for name in sorted(types)}


def transfer(
    own: LinearFit, donor: LinearFit, features: tuple[str, ...], factor: float
) -> LinearFit:
    """``own`` with the coefficients of ``features`` replaced by ``donor``'s times ``factor``."""
    coefficients = [
        donor.coefficient(f) * factor if f in features else c
        for f, c in zip(own.features, own.coefficients, strict=True)
    ]
    names = list(own.features)
    for f in features:
        if f not in names:
            names.append(f)
            coefficients.append(donor.coefficient(f) * factor)
    return LinearFit(tuple(names), tuple(coefficients))


def median_ratio(numerators: Sequence[float], denominators: Sequence[float]) -> float:
    """The median of element-wise ratios (a robust speed ratio between two data sets)."""
    return statistics.median(n / d for n, d in zip(numerators, denominators, strict=True))
