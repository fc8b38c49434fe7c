"""Pareto front, baseline comparison and trial choice on hand-made records."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from search.analysis.pareto import (
    ParetoPoint,
    StateCounts,
    choose,
    compare_baselines,
    count_states,
    pareto_front,
    progress,
)
from search.cli import main
from search.run.records import TRIALS_JSONL, TrialRecord
from tests.search.run_fixture import RECORDS, TARGET_MS, make_run


def _r(number: int, latency: float, accuracy: float | None, state: str = "complete") -> TrialRecord:
    return TrialRecord(
        number=number,
        arch=f"stem_r32_i1_c8:ds_r1_k3_s1_c{8 * (number + 1)}:head_n10",
        state=state,  # type: ignore[arg-type]
        latency_ms=latency,
        macs=100 * number,
        params=10 * number,
        accuracy=accuracy,
    )


def _p(record: TrialRecord) -> ParetoPoint:
    return ParetoPoint.from_record(record)


def test_front_of_hand_made_points() -> None:
    records = [
        _r(0, 3.0, 0.60),  # dominated by 1 (faster and more accurate)
        _r(1, 2.0, 0.70),
        _r(2, 1.0, 0.50),
        _r(3, 4.0, 0.90),
        _r(4, 4.0, 0.85),  # same latency as 3, less accurate
        _r(5, 5.0, 0.90),  # as accurate as 3 but slower
        _r(6, 0.5, None, "infeasible"),  # no accuracy: never on the front
        _r(7, 0.4, None, "failed"),
    ]
    assert pareto_front(records) == [_p(records[2]), _p(records[1]), _p(records[3])]


def test_front_keeps_one_of_identical_points_and_is_order_independent() -> None:
    records = [_r(3, 2.0, 0.8), _r(1, 2.0, 0.8), _r(2, 1.0, 0.7)]
    assert pareto_front(records) == [_p(records[2]), _p(records[1])]
    assert pareto_front(list(reversed(records))) == pareto_front(records)


def test_front_empty_and_single() -> None:
    assert pareto_front([]) == []
    assert pareto_front([_r(0, 1.0, None, "infeasible")]) == []
    assert pareto_front([_r(0, 1.0, 0.5)]) == [_p(_r(0, 1.0, 0.5))]


def test_fixture_front_counts_and_progress() -> None:
    assert [p.number for p in pareto_front(RECORDS)] == [2, 3, 7]
    assert count_states(RECORDS) == StateCounts(complete=6, infeasible=2, failed=1)
    assert progress(RECORDS, TARGET_MS) == [
        (0, 0.80),
        (1, 0.80),
        (2, 0.80),
        (3, 0.85),
        (4, 0.85),
        (5, 0.85),
        (6, 0.85),
        (7, 0.90),
        (8, 0.90),
    ]
    # A tighter bound ignores the slower, more accurate trials.
    assert progress(RECORDS, 2.0)[-1] == (8, 0.85)


def test_compare_baselines() -> None:
    (comparison,) = compare_baselines(RECORDS)
    assert comparison.baseline.number == 0
    assert comparison.faster is not None and comparison.faster.number == 3
    assert comparison.better is not None and comparison.better.number == 3
    assert comparison.speedup == pytest.approx(1.5)
    assert comparison.accuracy_gain == pytest.approx(0.05)


def test_choose() -> None:
    assert choose(RECORDS, target_ms=TARGET_MS).number == 7
    assert choose(RECORDS, best_under=2.2).number == 3
    assert choose(RECORDS).number == 7  # no bound at all: the most accurate
    assert choose(RECORDS, trial=4).number == 4


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"trial": 42}, "no trial 42 in this run: recorded trials are 0-8"),
        ({"trial": 5}, "trial 5 is failed (diverged: loss is nan)"),
        ({"trial": 6}, "choose a complete trial (0, 2-4, 7-8)"),
        ({"best_under": 0.5}, "the fastest is trial 2 at 1.000 ms"),
        ({"best_under": -1.0}, "latency bound must be a positive number of ms, got -1.0"),
        ({"trial": 2, "best_under": 3.0}, "not both"),
    ],
)
def test_choose_errors(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=None) as info:
        choose(RECORDS, **kwargs)  # type: ignore[arg-type]
    assert message in str(info.value)


def test_choose_without_complete_trials() -> None:
    with pytest.raises(ValueError, match="no finished trials"):
        choose([])
    with pytest.raises(ValueError, match="no complete trial yet"):
        choose([_r(0, 1.0, None, "infeasible")])


def test_cli_pareto_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = make_run(tmp_path / "run")
    assert main(["pareto", str(run), "--no-plots"]) == 0
    out = capsys.readouterr().out
    assert "9 trials recorded (6 complete, 2 infeasible, 1 failed)" in out
    assert "Pareto front (3 points)" in out
    front_lines = [line.split() for line in out.splitlines() if line.strip()[:1].isdigit()]
    assert [line[:3] for line in front_lines[:3]] == [
        ["2", "1.000", "70.00"],
        ["3", "2.000", "85.00"],
        ["7", "4.000", "90.00"],
    ]
    assert "mobilenet_v1_0.25_128  complete" in out
    assert "mobilenet_v1_0.5_128   infeasible" in out
    assert "1.50x (trial 3)" in out
    assert not (run / "trials.png").exists()


def test_cli_pareto_json_top_and_plots(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = make_run(tmp_path / "run")
    assert main(["pareto", str(run), "--json", "--top", "2"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert [p["number"] for p in document["front"]] == [3, 7]
    assert document["front"][1]["accuracy"] == 0.9
    assert document["trials"] == {"complete": 6, "infeasible": 2, "failed": 1}
    assert [b["baseline"] for b in document["baselines"]] == [
        "mobilenet_v1_0.25_128",
        "mobilenet_v1_0.5_128",
    ]
    assert document["comparisons"][0]["speedup"] == pytest.approx(1.5)
    assert document["target_ms"] == TARGET_MS
    assert {Path(p).name for p in document["plots"]} == {
        "trials.png",
        "trials.html",
        "progress.png",
    }


def test_cli_pareto_on_killed_run_with_truncated_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = make_run(tmp_path / "run", RECORDS[:4])
    with (run / TRIALS_JSONL).open("a") as handle:
        handle.write('{"number": 4, "arch": "stem_r32')  # the driver was killed mid-write
    assert main(["pareto", str(run), "--no-plots"]) == 0
    out = capsys.readouterr().out
    assert "4 trials recorded (3 complete, 1 infeasible, 0 failed)" in out


def test_cli_pareto_not_a_run_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pareto", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "is not an hwnas run directory: it has no run.json" in err
    assert main(["pareto", str(tmp_path / "missing")]) == 2
    assert "does not exist" in capsys.readouterr().err


@given(
    st.lists(
        st.tuples(
            st.sampled_from([0.5, 1.0, 1.5, 2.0, 3.0]),
            st.sampled_from([0.1, 0.5, 0.7, 0.9]),
            st.sampled_from(["complete", "complete", "infeasible", "failed"]),
        ),
        max_size=25,
    )
)
def test_front_properties(points: list[tuple[float, float, str]]) -> None:
    records = [
        _r(i, latency, accuracy if state == "complete" else None, state)
        for i, (latency, accuracy, state) in enumerate(points)
    ]
    front = pareto_front(records)
    complete = [p for p in map(_p, (r for r in records if r.state == "complete"))]

    def dominates(a: ParetoPoint, b: ParetoPoint) -> bool:
        return (
            a.latency_ms <= b.latency_ms
            and a.accuracy >= b.accuracy
            and (a.latency_ms, a.accuracy) != (b.latency_ms, b.accuracy)
        )

    # Nothing on the front is dominated; all else is dominated or repeats a point of the front.
    assert not any(dominates(c, f) for f in front for c in complete)
    on_front = {(f.latency_ms, f.accuracy) for f in front}
    for c in complete:
        assert (c.latency_ms, c.accuracy) in on_front or any(dominates(f, c) for f in front)
    assert len(on_front) == len(front)
    assert [f.latency_ms for f in front] == sorted(f.latency_ms for f in front)
    assert [f.accuracy for f in front] == sorted(f.accuracy for f in front)
