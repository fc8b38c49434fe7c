"""Block-level cost model of inverted-residual blocks, fitted on published block timings.

A block's time is modelled as a non-negative combination of what it does: multiply-adds of its
expansion, depthwise and projection convs, the activation and weight bytes they stream, the
residual add, squeeze-and-excite's pooled elements and 1x1 multiply-adds, and the elements a
separate hard-swish op rewrites (TFLite fuses ReLU/ReLU6 into the conv, not h-swish). The
intercept is per TFLite op the block runs (a fixed dispatch cost per op), not per block.

Held-out checks group the data so that a twin never stays in the fit: `loo_by_configuration`
drops every resolution of the held-out block's configuration (OFA times each configuration at 17
resolutions), and `loo_by_group` any other grouping (e.g. every block of one output width).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from scipy.optimize import nnls

from latency.arm.fit import error_summary
from space import make_divisible

#: fp32 bytes per element (the published tables are all fp32).
FP32 = 4
#: Squeeze-and-excite reduces the middle width by 4 (MobileNetV3, OFA), to a multiple of 8.
SE_REDUCTION = 4
#: Ops a squeeze-and-excite adds in TFLite: pool (MEAN), two 1x1 convs, the gating multiply.
SE_OPS = 4


class BlockShape(Protocol):
    """What the model needs to know of an inverted-residual block (square feature maps)."""

    @property
    def in_h(self) -> int: ...
    @property
    def in_channels(self) -> int: ...
    @property
    def mid_channels(self) -> int: ...
    @property
    def out_channels(self) -> int: ...
    @property
    def kernel(self) -> int: ...
    @property
    def stride(self) -> int: ...
    @property
    def se(self) -> bool: ...
    @property
    def residual(self) -> bool: ...
    @property
    def activation(self) -> str: ...


def _out(b: BlockShape) -> int:
    return -(-b.in_h // b.stride)


def _expands(b: BlockShape) -> bool:
    return b.mid_channels != b.in_channels


def _hswish(b: BlockShape) -> bool:
    return b.activation == "hswish"


def block_type(b: BlockShape) -> str:
    """The block type leave-one-out errors are reported by: ir / ir_e1, plus _se and _hs."""
    name = "ir" if _expands(b) else "ir_e1"
    return name + ("_se" if b.se else "") + ("_hs" if _hswish(b) else "")


def tflite_ops(b: BlockShape) -> float:
    """TFLite ops the block runs: convs, the add, SE's four ops, one h-swish per activation."""
    convs = 3 if _expands(b) else 2
    hswish = (2 if _expands(b) else 1) if _hswish(b) else 0
    return float(convs + int(b.residual) + (SE_OPS if b.se else 0) + hswish)


def expand_macs(b: BlockShape) -> float:
    """Multiply-adds of the 1x1 expansion (0 without one)."""
    return float(b.in_h * b.in_h * b.in_channels * b.mid_channels) if _expands(b) else 0.0


def depthwise_macs(b: BlockShape) -> float:
    """Multiply-adds of the depthwise conv."""
    return float(_out(b) ** 2 * b.mid_channels * b.kernel * b.kernel)


def project_macs(b: BlockShape) -> float:
    """Multiply-adds of the 1x1 projection."""
    return float(_out(b) ** 2 * b.mid_channels * b.out_channels)


def expand_output_bytes(b: BlockShape) -> float:
    """Bytes the expansion writes (0 without one)."""
    return float(FP32 * b.in_h * b.in_h * b.mid_channels) if _expands(b) else 0.0


def depthwise_input_bytes(b: BlockShape) -> float:
    """Bytes the depthwise conv reads."""
    return float(FP32 * b.in_h * b.in_h * b.mid_channels)


def depthwise_output_bytes(b: BlockShape) -> float:
    """Bytes the depthwise conv writes (and the projection reads)."""
    return float(FP32 * _out(b) ** 2 * b.mid_channels)


def block_output_bytes(b: BlockShape) -> float:
    """Bytes the projection writes."""
    return float(FP32 * _out(b) ** 2 * b.out_channels)


def block_weight_bytes(b: BlockShape) -> float:
    """Bytes of the block's conv weights (squeeze-and-excite excluded)."""
    expand = b.in_channels * b.mid_channels if _expands(b) else 0
    return float(FP32 * (expand + b.mid_channels * b.kernel**2 + b.mid_channels * b.out_channels))


def residual_bytes(b: BlockShape) -> float:
    """Bytes of the residual add's output (0 without a shortcut)."""
    return block_output_bytes(b) if b.residual else 0.0


def se_elements(b: BlockShape) -> float:
    """Elements squeeze-and-excite pools and rescales (0 without SE)."""
    return float(_out(b) ** 2 * b.mid_channels) if b.se else 0.0


def se_macs(b: BlockShape) -> float:
    """Multiply-adds of squeeze-and-excite's two 1x1 layers on the pooled vector."""
    if not b.se:
        return 0.0
    return float(2 * b.mid_channels * make_divisible(b.mid_channels / SE_REDUCTION))


def se_one(b: BlockShape) -> float:
    """1 for a block with squeeze-and-excite."""
    return 1.0 if b.se else 0.0


def hswish_elements(b: BlockShape) -> float:
    """Elements a separate h-swish op rewrites: the expansion's and the depthwise's outputs."""
    if not _hswish(b):
        return 0.0
    expanded = b.in_h * b.in_h * b.mid_channels if _expands(b) else 0
    return float(expanded + _out(b) ** 2 * b.mid_channels)


BLOCK_FEATURES: dict[str, Callable[[BlockShape], float]] = {
    "tflite_ops": tflite_ops,
    "expand_macs": expand_macs,
    "depthwise_macs": depthwise_macs,
    "project_macs": project_macs,
    "expand_output_bytes": expand_output_bytes,
    "depthwise_input_bytes": depthwise_input_bytes,
    "depthwise_output_bytes": depthwise_output_bytes,
    "block_output_bytes": block_output_bytes,
    "block_weight_bytes": block_weight_bytes,
    "residual_bytes": residual_bytes,
    "se_elements": se_elements,
    "se_macs": se_macs,
    "se_one": se_one,
    "hswish_elements": hswish_elements,
}
#: The features of a block model: every one in `BLOCK_FEATURES`.
IR_FEATURES = tuple(BLOCK_FEATURES)
#: The ones only squeeze-and-excite or h-swish blocks have (a device without such blocks in its
#: data cannot fit them).
SE_HSWISH_FEATURES = ("se_elements", "se_macs", "se_one", "hswish_elements")

BlockPoint = tuple[BlockShape, float]


@dataclass(frozen=True)
class BlockModel:
    """A fitted block model: feature names and coefficients (ms per feature unit)."""

    features: tuple[str, ...]
    coefficients: tuple[float, ...]

    def predict(self, block: BlockShape) -> float:
        """Milliseconds predicted for ``block``."""
        total = sum(
            c * BLOCK_FEATURES[f](block)
            for f, c in zip(self.features, self.coefficients, strict=True)
        )
        return max(total, 0.0)

    def coefficient(self, feature: str) -> float:
        """The coefficient of ``feature`` (0 if the model does not use it)."""
        return dict(zip(self.features, self.coefficients, strict=True)).get(feature, 0.0)

    def to_dict(self) -> dict[str, list[str] | list[float]]:
        """The form a table's cost model stores."""
        return {"features": list(self.features), "coefficients": list(self.coefficients)}


def fit_block_model(points: Sequence[BlockPoint], features: tuple[str, ...]) -> BlockModel:
    """Non-negative least squares on relative error (a 0.5 ms block weighs as a 5 ms one)."""
    if not points:
        raise ValueError("cannot fit a block model on no measured blocks")
    if any(ms <= 0 for _, ms in points):
        raise ValueError(f"measured block times must be positive, got {[ms for _, ms in points]}")
    unknown = [f for f in features if f not in BLOCK_FEATURES]
    if unknown:
        raise ValueError(
            f"unknown block feature {unknown[0]!r}: expected one of {', '.join(BLOCK_FEATURES)}"
        )
    design = np.array([[BLOCK_FEATURES[f](b) for f in features] for b, _ in points], dtype=float)
    target = np.array([ms for _, ms in points], dtype=float)
    # Columns span 1 to 1e8: scale them to unit maximum for a well-posed solve.
    scale = np.abs(design).max(axis=0)
    scale[scale == 0] = 1.0
    weights = 1.0 / target
    solution, _ = nnls((design / scale) * weights[:, None], target * weights)
    return BlockModel(features, tuple(float(c) for c in solution / scale))


@dataclass(frozen=True)
class HeldOut:
    """One measured block and what the model fitted without its group predicts."""

    block: BlockShape
    measured_ms: float
    predicted_ms: float

    @property
    def error(self) -> float:
        """(predicted - measured) / measured."""
        return (self.predicted_ms - self.measured_ms) / self.measured_ms


def loo_by_group(
    points: Sequence[BlockPoint],
    features: tuple[str, ...],
    group: Callable[[BlockShape], Hashable],
) -> list[HeldOut]:
    """Each block predicted by the model fitted without every block of its group."""
    fits: dict[Hashable, BlockModel] = {}
    result = []
    for block, ms in points:
        key = group(block)
        if key not in fits:
            fits[key] = fit_block_model([p for p in points if group(p[0]) != key], features)
        result.append(HeldOut(block, ms, fits[key].predict(block)))
    return result


def configuration(b: BlockShape) -> tuple[object, ...]:
    """A block without its input size: widths, kernel, stride, SE, activation, shortcut."""
    return (
        b.in_channels,
        b.mid_channels,
        b.out_channels,
        b.kernel,
        b.stride,
        b.se,
        b.activation,
        b.residual,
    )


def loo_by_configuration(points: Sequence[BlockPoint], features: tuple[str, ...]) -> list[HeldOut]:
    """Each block predicted without any block of its configuration (at any resolution)."""
    return loo_by_group(points, features, configuration)


def per_type(held: list[HeldOut]) -> dict[str, dict[str, float | int]]:
    """Error summary (|error| %) of held-out predictions, per block type."""
    types = sorted({block_type(h.block) for h in held})
    return {
        name: error_summary([h.error for h in held if block_type(h.block) == name])
        for name in types
    }


def median_ratio(numerators: Sequence[float], denominators: Sequence[float]) -> float:
    """The median of element-wise ratios (a robust speed ratio between two data sets)."""
    return statistics.median(n / d for n, d in zip(numerators, denominators, strict=True))
