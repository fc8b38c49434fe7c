"""The inverted-residual block model: features of ir signatures, a fit that recovers known costs,
grouped leave-out, the SE/h-swish transfer."""

from __future__ import annotations

from dataclasses import replace

import pytest

from latency.arm.fit import LinearFit, fit_linear
from latency.arm.ir_model import (
    IR_FEATURES,
    SE_HSWISH_FEATURES,
    block_type,
    configuration,
    leave_group_out,
    transfer,
)
from latency.cost_model import FEATURES, hswish_elements, se_macs, tflite_ops
from latency.signature import Signature


def ir(size: int, cin: int, mid: int, cout: int, k: int, s: int, **flags: object) -> Signature:
    activation = str(flags.get("activation", "relu6"))
    se = bool(flags.get("se", False))
    residual = s == 1 and cin == cout
    return Signature("ir", size, size, cin, cout, k, s, activation, "fp32", mid, se, residual)


def test_features_of_a_mobilenet_v3_block() -> None:
    # MobileNetV3-Large's 40 -> 40 block at 28x28: expansion 120, 5x5, SE, ReLU, shortcut
    block = ir(28, 40, 120, 40, 5, 1, se=True, activation="relu")
    assert block_type(block) == "ir_se"
    assert tflite_ops(block) == 3 + 1 + 4
    assert se_macs(block) == 2 * 120 * 32  # reduced to make_divisible(120 / 4) = 32
    assert hswish_elements(block) == 0
    hswish = replace(block, activation="hswish", se=False)
    assert block_type(hswish) == "ir_hs"
    assert hswish_elements(hswish) == 2 * 28 * 28 * 120
    first = ir(112, 16, 16, 16, 3, 1, activation="relu")
    assert block_type(first) == "ir_e1" and tflite_ops(first) == 3
    assert FEATURES["expand_macs"](first) == 0 and FEATURES["residual_bytes"](first) > 0
    # a 1x1 conv with h-swish runs a separate h-swish op over its output
    conv = Signature("pointwise", 7, 7, 160, 960, 1, 1, "hswish")
    assert hswish_elements(conv) == 7 * 7 * 960 and tflite_ops(conv) == 2


TRUE = LinearFit(
    (
        "tflite_ops",
        "depthwise_macs",
        "project_macs",
        "expand_macs",
        "se_elements",
        "hswish_elements",
    ),
    (0.01, 2e-7, 3e-8, 4e-8, 1.5e-6, 2e-6),
)


def _synthetic() -> list[tuple[Signature, float]]:
    blocks = [
        ir(size, cin, cin * e, cout, k, s, se=se, activation=a)
        for size, cin, cout, s in (
            (56, 24, 24, 1),
            (56, 24, 40, 2),
            (28, 40, 40, 1),
            (14, 80, 96, 1),
        )
        for e in (1, 3, 6)
        for k in (3, 5, 7)
        for se, a in ((False, "relu6"), (True, "hswish"))
    ]
    return [(b, TRUE.predict(b)) for b in blocks]


def test_the_fit_recovers_a_known_model_and_holds_out_exactly() -> None:
    points = _synthetic()
    fitted = fit_linear(points, IR_FEATURES)
    for block, ms in points:
        assert fitted.predict(block) == pytest.approx(ms, rel=1e-6)
    held = leave_group_out(points, IR_FEATURES, configuration)
    assert [p.key for p in held] == [b.key for b, _ in points]
    assert max(abs(p.error) for p in held) < 1e-6


def test_grouped_leave_out_never_keeps_the_group_in_the_fit() -> None:
    # Slow every 40-channel output down: held out by output width, no remaining point explains it.
    points = [(b, ms * (1.5 if b.out_channels == 40 else 1.0)) for b, ms in _synthetic()]
    held = leave_group_out(points, IR_FEATURES, lambda s: s.out_channels)
    errors = [p.error for (b, _), p in zip(points, held, strict=True) if b.out_channels == 40]
    assert errors and max(errors) < -0.3


def test_transfer_replaces_only_the_named_coefficients() -> None:
    own = LinearFit(("macs", "se_macs"), (1.0, 0.0))
    donor = LinearFit(("se_macs", "hswish_elements"), (2.0, 3.0))
    moved = transfer(own, donor, SE_HSWISH_FEATURES, 10.0)
    assert moved.coefficient("macs") == 1.0
    assert moved.coefficient("se_macs") == 20.0 and moved.coefficient("hswish_elements") == 30.0
    assert moved.coefficient("se_one") == 0.0
