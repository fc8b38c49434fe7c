"""The inverted-residual block model: features, a fit that recovers known costs, grouped LOO."""

from __future__ import annotations

from dataclasses import dataclass, replace

import pytest

from latency.arm.ir_model import (
    IR_FEATURES,
    BlockModel,
    block_type,
    fit_block_model,
    hswish_elements,
    loo_by_configuration,
    loo_by_group,
    se_macs,
    tflite_ops,
)


@dataclass(frozen=True)
class Block:
    in_h: int
    in_channels: int
    mid_channels: int
    out_channels: int
    kernel: int
    stride: int
    se: bool = False
    residual: bool = False
    activation: str = "relu6"


def test_features_of_a_mobilenet_v3_block() -> None:
    # MobileNetV3-Large's 40 -> 40 block at 28x28: expansion 120, 5x5, SE, ReLU, shortcut
    block = Block(28, 40, 120, 40, 5, 1, se=True, residual=True, activation="relu")
    assert block_type(block) == "ir_se"
    assert tflite_ops(block) == 3 + 1 + 4
    assert se_macs(block) == 2 * 120 * 32  # reduced to make_divisible(120 / 4) = 32
    assert hswish_elements(block) == 0
    hswish = replace(block, activation="hswish", se=False)
    assert block_type(hswish) == "ir_hs"
    assert hswish_elements(hswish) == 2 * 28 * 28 * 120
    first = Block(112, 16, 16, 16, 3, 1, residual=True, activation="relu")
    assert block_type(first) == "ir_e1" and tflite_ops(first) == 3


def _synthetic(model: BlockModel) -> list[tuple[Block, float]]:
    blocks = [
        Block(size, cin, cin * e, cout, k, s, se=se, residual=s == 1 and cin == cout, activation=a)
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
    return [(b, model.predict(b)) for b in blocks]


TRUE = BlockModel(
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


def test_the_fit_recovers_a_known_model_and_holds_out_exactly() -> None:
    points = _synthetic(TRUE)
    fitted = fit_block_model(points, IR_FEATURES)
    for block, ms in points:
        assert fitted.predict(block) == pytest.approx(ms, rel=1e-6)
    held = loo_by_configuration(points, IR_FEATURES)
    assert len(held) == len(points)
    assert max(abs(h.error) for h in held) < 1e-6


def test_grouped_loo_never_keeps_the_group_in_the_fit() -> None:
    points = _synthetic(TRUE)
    # Perturb every 40-channel output: held out by output width, those blocks are mispredicted
    # by the perturbation, which no remaining point can explain.
    points = [(b, ms * (1.5 if b.out_channels == 40 else 1.0)) for b, ms in points]
    held = loo_by_group(points, IR_FEATURES, lambda b: b.out_channels)
    errors = [h.error for h in held if h.block.out_channels == 40]
    assert errors and max(errors) < -0.3


def test_bad_input_is_named() -> None:
    with pytest.raises(ValueError, match="no measured blocks"):
        fit_block_model([], IR_FEATURES)
    with pytest.raises(ValueError, match="unknown block feature 'flops'"):
        fit_block_model(_synthetic(TRUE), ("flops",))
    with pytest.raises(ValueError, match="must be positive"):
        fit_block_model([(Block(7, 8, 8, 8, 3, 1), 0.0)], IR_FEATURES)
