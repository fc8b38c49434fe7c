"""Search-quality figures: hypervolume and per-baseline comparison."""

from __future__ import annotations

import pytest

from search.analysis.quality import hypervolume, quality_table, search_quality
from search.run.records import TrialRecord


def test_hypervolume_of_a_staircase() -> None:
    # Points (1 ms, 0.5), (2 ms, 0.8); reference (4 ms, 0.1): 1x0.4 + 2x0.7 = 1.8.
    assert hypervolume([(1, 0.5), (2, 0.8)], ref_latency_ms=4, ref_accuracy=0.1) == pytest.approx(
        1.8
    )
    # A dominated point and points outside the reference box add nothing.
    assert hypervolume(
        [(1, 0.5), (2, 0.8), (3, 0.6), (5, 0.99), (0.5, 0.05)], ref_latency_ms=4, ref_accuracy=0.1
    ) == pytest.approx(1.8)
    assert hypervolume([], ref_latency_ms=4, ref_accuracy=0.1) == 0.0


def _record(number: int, lat: float, acc: float | None, baseline: str | None = None) -> TrialRecord:
    return TrialRecord(
        number=number,
        arch=f"a{number}",
        state="complete" if acc is not None else "infeasible",
        latency_ms=lat,
        macs=1,
        params=1,
        accuracy=acc,
        baseline=baseline,
    )


def test_search_quality_compares_with_baselines() -> None:
    records = [
        _record(0, 2.0, 0.80, "mobilenet_v1_0.25_128"),
        _record(1, 4.0, 0.85, "mobilenet_v1_0.5_128"),
        _record(2, 9.0, None, "mobilenet_v1_1.0_224"),
        _record(3, 1.0, 0.81),
        _record(4, 2.5, 0.86),
        _record(5, 3.0, 0.70),
    ]
    q = search_quality(records, ref_latency_ms=5.0, ref_accuracy=0.1)
    assert (q.trials, q.complete, q.infeasible, q.searched_complete) == (6, 5, 1, 3)
    by_name = {c["baseline"]: c for c in q.comparisons}
    assert by_name["mobilenet_v1_0.25_128"]["speedup"] == pytest.approx(2.0)  # trial 3
    assert by_name["mobilenet_v1_0.5_128"]["speedup"] == pytest.approx(4.0 / 2.5)  # trial 4
    assert by_name["mobilenet_v1_0.5_128"]["accuracy_gain"] == pytest.approx(0.01)
    assert q.median_speedup == pytest.approx((2.0 + 1.6) / 2)
    assert q.hypervolume == pytest.approx(1.5 * 0.71 + 2.5 * 0.76)
    assert [p["number"] for p in q.front] == [3, 4]
    assert "| tpe | 6 | 5 (3) | 1 |" in quality_table({"tpe": q})
