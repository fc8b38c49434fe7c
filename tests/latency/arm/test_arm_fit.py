"""Cost-model fitting: recovers known models, leave-one-out, block decomposition, table format."""

from __future__ import annotations

import pytest

from latency.arm.fit import (
    CONV_FEATURES,
    LinearFit,
    error_summary,
    fit_blocks,
    fit_linear,
    leave_one_difference_out,
    leave_one_out,
    unique_points,
)
from latency.cost_model import evaluate, gemm_lhs_bytes, input_bytes, output_bytes, weight_bytes
from latency.signature import Signature


def _pw(size: int, cin: int, cout: int) -> Signature:
    return Signature("pointwise", size, size, cin, cout, 1, 1, "relu6", "fp32")


def _dw(size: int, channels: int, kernel: int, stride: int) -> Signature:
    return Signature("depthwise", size, size, channels, channels, kernel, stride, "relu6", "fp32")


TRUE = LinearFit(CONV_FEATURES, (0.05, 2e-7, 3e-7, 4e-7, 5e-7))
POINTS = [
    (_pw(s, ci, co), TRUE.predict(_pw(s, ci, co)))
    for s, ci, co in [
        (56, 24, 72),
        (28, 40, 120),
        (14, 80, 480),
        (7, 192, 1152),
        (112, 16, 48),
        (28, 120, 40),
        (14, 96, 288),
        (7, 1152, 320),
        (56, 48, 24),
    ]
]


def test_fit_recovers_a_known_linear_model_and_loo_is_exact() -> None:
    fit = fit_linear(POINTS, CONV_FEATURES)
    for got, want in zip(fit.coefficients, TRUE.coefficients, strict=True):
        assert got == pytest.approx(want, rel=1e-6)
    loo = leave_one_out(POINTS, CONV_FEATURES)
    assert error_summary([p.error for p in loo])["max_abs_pct"] < 1e-4


def test_differences_constrain_the_fit() -> None:
    # Two points cannot fix five coefficients; differences between kernel sizes add the rows.
    true = LinearFit(("one", "macs"), (0.1, 5e-7))
    points = [(_dw(28, 64, 3, 1), true.predict(_dw(28, 64, 3, 1)))]
    differences = [
        (
            _dw(s, c, k, 1),
            _dw(s, c, 3, 1),
            true.predict(_dw(s, c, k, 1)) - true.predict(_dw(s, c, 3, 1)),
        )
        for s, c, k in [(56, 32, 5), (14, 128, 7), (28, 64, 7)]
    ]
    fit = fit_linear(points, ("one", "macs"), differences)
    assert fit.coefficients == pytest.approx(true.coefficients, rel=1e-6)
    held_out = leave_one_difference_out(points, ("one", "macs"), differences)
    assert max(abs(p.error) for p in held_out) < 1e-6


def test_fit_rejects_bad_points() -> None:
    with pytest.raises(ValueError, match="no measured points"):
        fit_linear([], CONV_FEATURES)
    with pytest.raises(ValueError, match="must be positive"):
        fit_linear([(_pw(7, 8, 8), 0.0)], CONV_FEATURES)


def test_unique_points_average_repeats() -> None:
    merged = unique_points([(_pw(7, 8, 8), 1.0), (_pw(7, 8, 8), 3.0), (_pw(7, 8, 16), 2.0)])
    assert merged == [(_pw(7, 8, 8), 2.0), (_pw(7, 8, 16), 2.0)]


def test_block_decomposition_recovers_known_op_models() -> None:
    dw_true = LinearFit(("one", "macs"), (0.02, 6e-7))
    pw_true = LinearFit(("one", "macs"), (0.04, 2e-7))
    blocks = []
    for size, cin, cout, expand, kernel in [
        (56, 24, 24, 3, 3),
        (28, 40, 40, 6, 5),
        (14, 80, 96, 3, 7),
        (7, 192, 320, 6, 3),
        (28, 24, 40, 1, 3),
        (14, 96, 96, 6, 7),
    ]:
        middle = cin * expand
        ops = (_pw(size, cin, middle), _dw(size, middle, kernel, 1), _pw(size, middle, cout))
        ms = dw_true.predict(ops[1]) + pw_true.predict(ops[0]) + pw_true.predict(ops[2])
        blocks.append((ops, 0.0, ms))
    fit = fit_blocks(blocks, ("one", "macs"), ("one", "macs"))
    assert fit.depthwise.coefficients[1] == pytest.approx(6e-7, rel=1e-6)
    assert fit.conv.coefficients[1] == pytest.approx(2e-7, rel=1e-6)
    # Intercepts are not separately identifiable from blocks of 2 convs + 1 depthwise:
    # only 2 * conv + depthwise is.
    assert 2 * fit.conv.coefficients[0] + fit.depthwise.coefficients[0] == pytest.approx(0.10)


def test_table_cost_model_format_evaluates_like_the_fit() -> None:
    signature = _pw(14, 96, 288)
    assert evaluate({"per_op": {"pointwise": TRUE.to_dict()}}, signature) == pytest.approx(
        TRUE.predict(signature)
    )


def test_byte_features() -> None:
    stem = Signature("stem", 224, 224, 3, 32, 3, 2, "relu", "fp32")
    assert gemm_lhs_bytes(stem) == 4 * 112 * 112 * 27  # im2col operand
    assert output_bytes(stem) == 4 * 112 * 112 * 32
    head = Signature("head", 7, 7, 1024, 10, 7, 1, "relu", "uint8")
    assert (input_bytes(head), weight_bytes(head), output_bytes(head)) == (
        7 * 7 * 1024,
        1025 * 10,
        10,
    )
    assert weight_bytes(_dw(14, 96, 5, 1)) == 4 * 96 * 25
