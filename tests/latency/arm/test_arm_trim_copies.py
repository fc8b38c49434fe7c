"""The choice between the two mobile_trim copies, from their block-by-block agreement."""

from __future__ import annotations

import pytest

from latency.arm.build_tables import DATA_DIR
from latency.arm.trim_copies import COPY_A, copy_agreement, profile_block_times


def test_profile_blocks_sum_to_the_profiled_ops() -> None:
    blocks = profile_block_times(DATA_DIR)
    assert len(blocks) == 23  # stem, 20 blocks, Conv_1, Logits
    assert blocks[0] == ("Conv-input:224x224x3-output:112x112x32", pytest.approx(3.246))
    # the first block: depthwise 2.265 + project 1.548 (no expansion, no ADD)
    assert blocks[1][1] == pytest.approx(2.265 + 1.548)
    # Logits: pool 0.037 + classifier 1.479 + reshape 0.002
    assert blocks[-1] == ("Logits-input:7x7x1280-output:1000", pytest.approx(1.518))
    assert sum(ms for _, ms in blocks) == pytest.approx(80.637, abs=1e-3)


def test_copy_a_agrees_with_the_profile_block_by_block_and_copy_b_only_in_total() -> None:
    report = copy_agreement(DATA_DIR)
    a, b = report["mobile_trim_copy_a"], report["mobile_trim_copy_b"]
    assert report["chosen"] == COPY_A
    # copy_b's total is nearer the profile's 80.6 ms ...
    assert b["proxylessnas_mobile_sum_ms"] == pytest.approx(82.524, abs=1e-3)
    assert a["proxylessnas_mobile_sum_ms"] == pytest.approx(86.377, abs=1e-3)
    # ... but only because its errors cancel: block by block copy_a is twice as close
    assert a["median_abs_pct"] == pytest.approx(9.52)
    assert b["median_abs_pct"] == pytest.approx(18.33)
    assert a["after_campaign_scale_median_abs_pct"] < b["after_campaign_scale_median_abs_pct"] / 2
    assert a["kendall_tau"] == pytest.approx(0.88, abs=1e-3) and b["kendall_tau"] < 0.75
    assert a["campaign_scale"] == pytest.approx(1.051, abs=1e-3)
