"""Pixel-1 inverted-residual blocks: measured sources, held-out errors, the SE/h-swish transfer."""

from __future__ import annotations

import pytest

from latency.arm.build_tables import DATA_DIR
from latency.arm.ir_model import SE_HSWISH_FEATURES
from latency.arm.note10 import fit_note10, measured_entries, note10_timings
from latency.arm.pixel1_ir import fit_pixel1_blocks, pixel1_blocks


def test_measured_blocks_are_the_profile_then_copy_a_on_the_profiles_scale() -> None:
    measured, choice = pixel1_blocks(DATA_DIR)
    assert choice["chosen"].endswith("mobile_trim_copy_a.yaml")
    assert [m.source for m in measured].count("profile") == 14
    assert [m.source for m in measured].count("mobile_trim_copy_a") == 55
    assert len({m.signature for m in measured}) == 69
    first = measured[0]
    assert first.signature.key == "ir_h112_w112_ci32_cm32_co16_k3_s1_se0_res0_relu6_fp32"
    assert first.source == "profile" and first.ms == pytest.approx(2.265 + 1.548)
    for m in measured:
        if m.source != "profile":
            assert m.ms == pytest.approx(m.published_ms / choice["campaign_scale"])


def test_held_out_errors_and_the_transfer() -> None:
    note10_blocks = fit_note10(measured_entries(note10_timings(DATA_DIR))).models["ir"]
    fitted = fit_pixel1_blocks(DATA_DIR, note10_blocks)
    assert fitted["loo"]["ir"]["n"] == 66 and fitted["loo"]["ir"]["median_abs_pct"] < 5.0
    assert fitted["loo"]["ir_e1"]["n"] == 3 and fitted["loo"]["ir_e1"]["median_abs_pct"] < 15.0
    ratio = fitted["speed_ratio_vs_note10"]
    assert 2.5 < ratio < 4.5  # a Pixel-1 core runs these blocks ~3x slower than a Note10's
    model = fitted["model"]
    for feature in SE_HSWISH_FEATURES:
        expected = ratio * note10_blocks.coefficient(feature)
        assert model.coefficient(feature) == pytest.approx(expected)
    assert model.coefficient("hswish_elements") > 0
