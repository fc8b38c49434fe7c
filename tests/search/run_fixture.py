"""A synthetic run directory for the pareto/report/export tests (no driver, no training)."""

from __future__ import annotations

from pathlib import Path

from latency.signature import arch_signatures
from latency.table import Entry, LatencyTable
from search.run.info import (
    ArchLatency,
    DatasetInfo,
    RunInfo,
    RunSettings,
    Session,
    TableInfo,
    write_run_info,
)
from search.run.records import TrialRecord, append_record
from space import Arch, count_macs, count_params, mobilenet_v1

TARGET_MS = 5.0
TINY = "stem_r32_i1_c8:ds_r1_k3_s1_c16:ds_r1_k3_s2_c24:head_n10"
SMALL = "stem_r32_i1_c8:ds_r1_k3_s1_c16:ds_r2_k5_s2_c32:head_n10"
MEDIUM = "stem_r32_i1_c16:ds_r2_k3_s1_c24:ds_r2_k3_s2_c48:head_n10"
LARGE = "stem_r32_i1_c16:ds_r2_k5_s1_c32:ds_r2_k5_s2_c64:head_n10"
BASE_A = mobilenet_v1(0.25, 128, 10, 1)
BASE_B = mobilenet_v1(0.5, 128, 10, 1)


def _record(
    number: int,
    arch: str | Arch,
    state: str,
    latency_ms: float,
    accuracy: float | None = None,
    baseline: str | None = None,
    reason: str | None = None,
) -> TrialRecord:
    parsed = arch if isinstance(arch, Arch) else Arch.parse(arch)
    return TrialRecord(
        number=number,
        arch=parsed.to_str(),
        state=state,  # type: ignore[arg-type]
        latency_ms=latency_ms,
        macs=count_macs(parsed),
        params=count_params(parsed),
        accuracy=accuracy,
        baseline=baseline,
        reason=reason,
    )


# Trial 3 and 8 are the same point (a repeated architecture); trial 4 and baseline 0 are dominated.
RECORDS = [
    _record(0, BASE_A, "complete", 3.0, 0.80, baseline="mobilenet_v1_0.25_128"),
    _record(1, BASE_B, "infeasible", 9.0, baseline="mobilenet_v1_0.5_128", reason="9.0 ms > 5 ms"),
    _record(2, TINY, "complete", 1.0, 0.70),
    _record(3, SMALL, "complete", 2.0, 0.85),
    _record(4, MEDIUM, "complete", 2.5, 0.83),
    _record(5, MEDIUM, "failed", 1.5, reason="diverged: loss is nan"),
    _record(6, LARGE, "infeasible", 7.0, reason="7.0 ms > 5 ms"),
    _record(7, LARGE, "complete", 4.0, 0.90),
    _record(8, SMALL, "complete", 2.0, 0.85),
]


def make_table(archs: list[Arch]) -> LatencyTable:
    """A table pricing every layer of ``archs``: compute at 2 GMAC/s, memory at 4 GB/s."""
    entries = {}
    for arch in archs:
        for signature in arch_signatures(arch):
            ms = signature.macs / 2e6 + signature.bytes_moved / 4e6
            entries[signature.key] = Entry(median_ms=ms, mean_ms=ms, std_ms=0.0, runs=5)
    return LatencyTable(
        device={"name": "synthetic", "cpu": "none", "runtime": "formula", "threads": 1},
        protocol={"warmup": 0, "runs": 5, "overhead": "none"},
        entries=entries,
        network_overhead_ms=0.05,
        provenance={"source": "tests/search/run_fixture.py", "licence": "MIT"},
    )


def run_info(table: LatencyTable, table_path: str) -> RunInfo:
    """The run.json of a small finished search on ``table`` (synthetic data, 9 trials)."""
    return RunInfo(
        created="2026-01-01T00:00:00.000+00:00",
        command="hwnas search --target-ms 5 --trials 9 --dataset synthetic",
        settings=RunSettings(
            target_ms=TARGET_MS,
            target_source="--target-ms",
            mode="target",
            seed=0,
            sampler="tpe",
            device=table.device_name,
            table=table_path,
            dataset="synthetic",
            data_dir=None,
            config={"space": {}, "proxy": {"epochs": 1.0}},
            trials=9,
            workers=2,
            threads_per_worker=1,
            storage="journal:study.journal",
            ray_address=None,
        ),
        table=TableInfo(
            path=table_path,
            device=table.device,
            device_name=table.device_name,
            provenance=table.provenance,
            protocol=table.protocol,
        ),
        dataset=DatasetInfo(name="synthetic", dir=None, in_channels=1, num_classes=10),
        proxy_schedule={"epochs": 1.0, "train_subset": 256},
        space={"in_channels": 1, "num_classes": 10},
        baselines={"mobilenet_v1_0.25_128": 3.0, "mobilenet_v1_0.5_128": 9.0},
        fastest_arch=ArchLatency(TINY, 1.0),
        versions={"python": "3.11", "torch": "2.13.0"},
        sessions=(
            Session(started="2026-01-01T00:00:00.000+00:00", command="hwnas search", trials=9,
                    workers=2),
        ),
    )


def make_run(run_dir: Path, records: list[TrialRecord] | None = None) -> Path:
    """Write run.json, table.json and trials.jsonl as a search would."""
    run_dir.mkdir(parents=True, exist_ok=True)
    table = make_table([BASE_A, BASE_B] + [Arch.parse(a) for a in (TINY, SMALL, MEDIUM, LARGE)])
    table.save(run_dir / "table.json")
    write_run_info(run_dir, run_info(table, "table.json"))
    for record in RECORDS if records is None else records:
        append_record(run_dir, record)
    return run_dir
