"""Trial records: one `TrialRecord` per finished trial, appended to ``trials.jsonl``.

A half-written last line of ``trials.jsonl`` (a kill mid-write) is skipped, never fatal.
``trials.csv`` holds the same records as CSV and is rewritten (atomically) after each append.
"""

from __future__ import annotations

import csv
import json
import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, Literal

from latency.files import write_atomic

TrialState = Literal["complete", "infeasible", "failed"]
TRIAL_STATES: tuple[str, ...] = ("complete", "infeasible", "failed")
TRIALS_JSONL = "trials.jsonl"
TRIALS_CSV = "trials.csv"


@dataclass(frozen=True)
class TrialRecord:
    """What one finished trial produced.

    ``accuracy`` is the proxy validation accuracy in [0, 1] (None unless complete); ``latency_ms``
    the table-predicted latency on the run's device; ``baseline`` the MobileNetV1 name for an
    enqueued baseline, else None; ``reason`` why an infeasible or failed trial was not scored.
    """

    number: int
    arch: str
    state: TrialState
    latency_ms: float
    macs: int
    params: int
    accuracy: float | None = None
    baseline: str | None = None
    reason: str | None = None
    train_seconds: float | None = None
    started: str | None = None
    finished: str | None = None
    worker: str | None = None
    optuna_params: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        if self.state not in TRIAL_STATES:
            raise ValueError(f"trial state {self.state!r} is not one of {', '.join(TRIAL_STATES)}")

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrialRecord:
        """Inverse of `to_dict`; unknown keys are ignored so that newer runs stay readable."""
        known = {f.name for f in fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in known})


def append_record(run_dir: Path, record: TrialRecord) -> None:
    """Append one record to ``trials.jsonl`` durably, then rewrite ``trials.csv``."""
    path = run_dir / TRIALS_JSONL
    with path.open("a") as handle:
        handle.write(json.dumps(record.to_dict(), sort_keys=True) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    write_csv(run_dir / TRIALS_CSV, read_records(run_dir))


def read_records(run_dir: Path) -> list[TrialRecord]:
    """All records of a run, by trial number; the latest record wins if a number repeats."""
    path = Path(run_dir) / TRIALS_JSONL
    if not path.exists():
        return []
    by_number: dict[int, TrialRecord] = {}
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        try:
            record = TrialRecord.from_dict(json.loads(line))
        except (json.JSONDecodeError, TypeError, ValueError):
            continue  # a line cut short by a kill
        by_number[record.number] = record
    return [by_number[number] for number in sorted(by_number)]


def write_csv(path: Path, records: list[TrialRecord]) -> None:
    """Write the records as CSV (``optuna_params`` as a JSON string), atomically."""
    columns = [f.name for f in fields(TrialRecord)]

    def write(tmp: Path) -> None:
        with tmp.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns)
            writer.writeheader()
            for record in records:
                row = record.to_dict()
                row["optuna_params"] = json.dumps(row["optuna_params"], sort_keys=True)
                writer.writerow(row)

    write_atomic(path, write)
