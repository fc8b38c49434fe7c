"""Per-op-kind linear cost models fitted on a device's measured ops, and their leave-one-out errors.

latency_ms = sum(coefficient_i * feature_i(signature)) with features from `latency.cost_model`
(multiply-adds, activation and weight bytes, an intercept). Coefficients are fitted by
non-negative least squares on relative error: no feature may lower the time (a negative byte or
MAC cost would extrapolate to negative latencies), and a 0.5 ms op weighs as much as a 5 ms one.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import nnls

from latency.cost_model import FEATURES
from latency.signature import Signature

#: Depthwise: compute (MACs) and the activations streamed in and out; weights are tiny.
DEPTHWISE_FEATURES = ("one", "macs", "input_bytes", "output_bytes", "weight_bytes")
#: Convolutions as GEMMs: compute, the im2col activation operand, the output, the weights.
CONV_FEATURES = ("one", "macs", "gemm_lhs_bytes", "output_bytes", "weight_bytes")

Point = tuple[Signature, float]
#: A measured difference: time(first) - time(second), e.g. two blocks that differ only in kernel.
Difference = tuple[Signature, Signature, float]


@dataclass(frozen=True)
class LinearFit:
    """A fitted per-kind model: feature names and coefficients (ms per feature unit)."""

    features: tuple[str, ...]
    coefficients: tuple[float, ...]

    def predict(self, signature: Signature) -> float:
        """Milliseconds predicted for ``signature``."""
        return max(
            sum(
                c * FEATURES[f](signature)
                for f, c in zip(self.features, self.coefficients, strict=True)
            ),
            0.0,
        )

    def coefficient(self, feature: str) -> float:
        """The coefficient of ``feature`` (0 if the model does not use it)."""
        return dict(zip(self.features, self.coefficients, strict=True)).get(feature, 0.0)

    def scaled(self, factor: float) -> LinearFit:
        """The same model with every coefficient multiplied by ``factor``."""
        return LinearFit(self.features, tuple(c * factor for c in self.coefficients))

    def to_dict(self) -> dict[str, list[str] | list[float]]:
        """The ``per_op`` entry of a table's cost model."""
        return {"features": list(self.features), "coefficients": list(self.coefficients)}


@dataclass(frozen=True)
class LooPoint:
    """One measured op, and what the model fitted without it predicts."""

    key: str
    measured_ms: float
    predicted_ms: float

    @property
    def error(self) -> float:
        """Relative error of the prediction, (predicted - measured) / measured."""
        return (self.predicted_ms - self.measured_ms) / self.measured_ms


def fit_linear(
    points: Sequence[Point],
    features: tuple[str, ...],
    differences: Sequence[Difference] = (),
) -> LinearFit:
    """Non-negative least squares on relative error over ``points`` (and ``differences``).

    A difference row says model(first) - model(second) = ms; each row, point or difference,
    weighs by its relative error.
    """
    if len(points) < 1:
        raise ValueError("cannot fit a cost model on no measured points")
    if any(ms <= 0 for _, ms in points) or any(ms <= 0 for _, _, ms in differences):
        raise ValueError(f"measured times must be positive, got {[ms for _, ms in points]}")
    rows = [[FEATURES[f](s) for f in features] for s, _ in points]
    rows += [[FEATURES[f](a) - FEATURES[f](b) for f in features] for a, b, _ in differences]
    design = np.array(rows, dtype=float)
    target = np.array([ms for _, ms in points] + [ms for _, _, ms in differences], dtype=float)
    # Columns span 1 to 1e8 (intercept vs MACs): scale them to unit maximum for a well-posed
    # solve, then scale the coefficients back.
    scale = np.abs(design).max(axis=0)
    scale[scale == 0] = 1.0
    weights = 1.0 / target
    solution, _ = nnls((design / scale) * weights[:, None], target * weights)
    return LinearFit(features, tuple(float(c) for c in solution / scale))


def leave_one_out(
    points: Sequence[Point], features: tuple[str, ...], differences: Sequence[Difference] = ()
) -> list[LooPoint]:
    """Each point predicted by the model fitted on all the others (and every difference)."""
    result = []
    for index, (signature, ms) in enumerate(points):
        rest = [p for i, p in enumerate(points) if i != index]
        fit = fit_linear(rest, features, differences)
        result.append(LooPoint(signature.key, ms, fit.predict(signature)))
    return result


def leave_one_difference_out(
    points: Sequence[Point], features: tuple[str, ...], differences: Sequence[Difference]
) -> list[LooPoint]:
    """Each difference predicted by the model fitted on every point and the other differences."""
    result = []
    for index, (first, second, ms) in enumerate(differences):
        rest = [d for i, d in enumerate(differences) if i != index]
        fit = fit_linear(points, features, rest)
        key = f"{first.key} - {second.key}"
        result.append(LooPoint(key, ms, fit.predict(first) - fit.predict(second)))
    return result


def error_summary(errors: Sequence[float]) -> dict[str, float | int]:
    """Count, median, mean and max of absolute relative errors (in %), plus the median bias."""
    absolute = [abs(e) for e in errors]
    return {
        "n": len(errors),
        "median_abs_pct": round(100 * statistics.median(absolute), 2),
        "mean_abs_pct": round(100 * statistics.fmean(absolute), 2),
        "max_abs_pct": round(100 * max(absolute), 2),
        "median_bias_pct": round(100 * statistics.median(errors), 2),
    }


def unique_points(points: Sequence[Point]) -> list[Point]:
    """One point per signature (the mean of repeats), so leave-one-out cannot keep a twin."""
    grouped: dict[Signature, list[float]] = {}
    for signature, ms in points:
        grouped.setdefault(signature, []).append(ms)
    return [(s, statistics.fmean(v)) for s, v in grouped.items()]


#: A block measurement: its op signatures, the bytes of its residual add (0 if none), its time.
Block = tuple[tuple[Signature, ...], float, float]


@dataclass(frozen=True)
class BlockFit:
    """Op models recovered from block times, assuming a block costs the sum of its ops."""

    depthwise: LinearFit
    conv: LinearFit
    add_ms_per_byte: float

    def predict(self, ops: Sequence[Signature], add_bytes: float = 0.0) -> float:
        """Milliseconds for a block made of ``ops`` plus a residual add of ``add_bytes``."""
        total = sum(
            self.depthwise.predict(s) if s.op == "depthwise" else self.conv.predict(s) for s in ops
        )
        return total + self.add_ms_per_byte * add_bytes


def _block_row(
    block: Block, dw_features: tuple[str, ...], conv_features: tuple[str, ...]
) -> list[float]:
    ops, add_bytes, _ = block
    row = [0.0] * (len(dw_features) + len(conv_features)) + [add_bytes]
    for signature in ops:
        if signature.op == "depthwise":
            names, offset = dw_features, 0
        else:
            names, offset = conv_features, len(dw_features)
        for i, name in enumerate(names):
            row[offset + i] += FEATURES[name](signature)
    return row


def fit_blocks(
    blocks: Sequence[Block], dw_features: tuple[str, ...], conv_features: tuple[str, ...]
) -> BlockFit:
    """Decompose block times into per-op models (non-negative least squares, relative error)."""
    design = np.array([_block_row(b, dw_features, conv_features) for b in blocks], dtype=float)
    target = np.array([b[2] for b in blocks], dtype=float)
    scale = np.abs(design).max(axis=0)
    scale[scale == 0] = 1.0
    weights = 1.0 / target
    solution, _ = nnls((design / scale) * weights[:, None], target * weights)
    coefficients = [float(c) for c in solution / scale]
    n = len(dw_features)
    return BlockFit(
        LinearFit(dw_features, tuple(coefficients[:n])),
        LinearFit(conv_features, tuple(coefficients[n : n + len(conv_features)])),
        coefficients[-1],
    )


def leave_one_block_out(
    blocks: Sequence[Block], dw_features: tuple[str, ...], conv_features: tuple[str, ...]
) -> list[float]:
    """Relative error of each block predicted by the decomposition fitted on all the others."""
    errors = []
    for index, (ops, add_bytes, ms) in enumerate(blocks):
        rest = [b for i, b in enumerate(blocks) if i != index]
        predicted = fit_blocks(rest, dw_features, conv_features).predict(ops, add_bytes)
        errors.append((predicted - ms) / ms)
    return errors
