"""The run-directory record format: append, read back, tolerate a kill mid-write."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from search.run.records import (
    TRIALS_CSV,
    TRIALS_JSONL,
    TrialRecord,
    append_record,
    read_records,
)


def _record(number: int, state: str = "complete", accuracy: float | None = 0.8) -> TrialRecord:
    return TrialRecord(
        number=number,
        arch="stem_r128_i1_c8:ds_r1_k3_s1_c16:head_n10",
        state=state,  # type: ignore[arg-type]
        latency_ms=1.5 + number,
        macs=1000 * (number + 1),
        params=500,
        accuracy=accuracy,
        optuna_params={"resolution": 128},
    )


def test_append_then_read_round_trips(tmp_path: Path) -> None:
    records = [_record(0), _record(1, "infeasible", None), _record(2, "failed", None)]
    for record in records:
        append_record(tmp_path, record)
    assert read_records(tmp_path) == records
    with (tmp_path / TRIALS_CSV).open() as handle:
        rows = list(csv.DictReader(handle))
    assert [row["state"] for row in rows] == ["complete", "infeasible", "failed"]
    assert json.loads(rows[0]["optuna_params"]) == {"resolution": 128}


def test_truncated_last_line_is_skipped(tmp_path: Path) -> None:
    append_record(tmp_path, _record(0))
    with (tmp_path / TRIALS_JSONL).open("a") as handle:
        handle.write('{"number": 1, "arch": "stem_r1')
    assert read_records(tmp_path) == [_record(0)]


def test_latest_record_of_a_trial_number_wins(tmp_path: Path) -> None:
    append_record(tmp_path, _record(3, "failed", None))
    append_record(tmp_path, _record(3))
    assert read_records(tmp_path) == [_record(3)]


def test_unknown_state_is_rejected() -> None:
    with pytest.raises(ValueError, match="'pending' is not one of complete, infeasible, failed"):
        _record(0, "pending")
