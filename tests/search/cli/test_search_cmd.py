"""``hwnas search`` end to end: bad input, a real killed run resumed, RDB storage, dead workers.

Training is replaced by the fake evaluator (``HWNAS_FAKE_EVALUATOR=SECONDS``) so that these tests
drive the real CLI, real Optuna and real Ray in seconds.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from latency.table import LatencyTable
from search.cli import main
from search.run.info import read_run_info
from search.run.records import read_records
from search.study.loop import costs_budget

HWNAS = str(Path(sys.executable).with_name("hwnas"))
TINY_SPACE = """
[space]
resolutions = [128, 160]
width_multipliers = [0.25, 0.5, 0.75, 1.0]
kernels = [3, 5]
depths = [[1], [1, 2], [1, 2], [2, 6], [1, 2]]
"""
INTERRUPTED = "interrupted: the driver stopped while the trial ran; its candidate was re-enqueued"


@pytest.fixture
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A cost-model table (1 us per call + 1 ns per MAC) and a tiny space config in tmp_path."""
    per_op = {
        op: {"features": ["one", "macs"], "coefficients": [0.001, 1e-6]}
        for op in ("stem", "depthwise", "pointwise", "head")
    }
    LatencyTable(
        device={"name": "fake-1gmacs", "cpu": "fake"},
        protocol={"kind": "cost model only"},
        cost_model={"per_op": per_op},
        provenance={"source": "tests"},
    ).save(tmp_path / "table.json")
    (tmp_path / "tiny.toml").write_text(TINY_SPACE)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HWNAS_FAKE_EVALUATOR", "0")
    return tmp_path


BASE = ["search", "--table", "table.json", "--config", "tiny.toml"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--trials", "0"], "--trials must be at least 1, got 0"),
        (["--workers", "0"], "--workers must be at least 1, got 0"),
        (["--mode", "best"], "--mode 'best' is not one of target, pareto"),
        (["--sampler", "grid"], "--sampler 'grid' is not one of tpe, random, nsga2"),
        (["--storage", "nowhere"], "--storage 'nowhere' is not a database URL"),
        (
            ["--target-ms", "1"],
            "target 1 ms is below the fastest architecture of the space on fake-1gmacs: "
            "stem_r128_i1_c8:ds_r1_k3_s1_c16:ds_r1_k3_s2_c32:ds_r1_k3_s2_c64:ds_r2_k3_s2_c128:"
            "ds_r1_k3_s2_c256:head_n10 is predicted at 4.627 ms",
        ),
        (["--target-ms", "-3"], "--target-ms must be a positive number of milliseconds, got -3.0"),
    ],
)
def test_bad_input_is_one_line_before_anything_starts(
    setup: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert main([*BASE, "--run-dir", "run", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"hwnas: error: {message}") and err.count("\n") == 1
    assert not (setup / "run").exists()


def test_missing_table_and_config(setup: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["search", "--table", "nope.json", "--config", "tiny.toml"]) == 2
    assert "latency table 'nope.json' does not exist" in capsys.readouterr().err
    assert main(["search", "--table", "table.json", "--config", "nope.toml"]) == 2
    assert "--config 'nope.toml' does not exist" in capsys.readouterr().err
    (setup / "bad.toml").write_text("[space]\nkernels = [4]\n")
    assert main(["search", "--table", "table.json", "--config", "bad.toml"]) == 2
    assert "kernels must be odd, got 4" in capsys.readouterr().err


def test_missing_dataset_is_a_clear_error(
    setup: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HWNAS_FAKE_EVALUATOR")
    assert main([*BASE, "--data-dir", str(setup / "no-data")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("hwnas: error: ") and err.count("\n") == 1


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [HWNAS, *BASE, *args], env=env, capture_output=True, text=True, timeout=300
    )


@pytest.mark.ray
@pytest.mark.slow
def test_killed_run_resumes_without_losing_or_repeating(setup: Path) -> None:
    env = {**os.environ, "HWNAS_FAKE_EVALUATOR": "0.7"}
    args = ["--trials", "14", "--workers", "2", "--target-ms", "1000", "--run-dir", "run"]
    proc = subprocess.Popen(
        [HWNAS, *BASE, *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 180
        while len(read_records(setup / "run")) < 4:
            assert proc.poll() is None and time.monotonic() < deadline, "run ended early"
            time.sleep(0.1)
        os.kill(proc.pid, signal.SIGKILL)  # the driver only, mid-run with both workers busy
        proc.wait()
    finally:
        time.sleep(0.5)
        # Ray's agents outlive a killed driver: end them (they are in its process group).
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    before = read_records(setup / "run")
    assert 4 <= len(before) < 14 and {r.state for r in before} == {"complete"}

    done = _run(args, env)
    assert done.returncode == 0, done.stderr
    records = read_records(setup / "run")
    assert records[: len(before)] == before  # nothing completed was lost or rewritten
    interrupted = [r for r in records if r.reason == INTERRUPTED]
    assert 1 <= len(interrupted) <= 2 and all(r.state == "failed" for r in interrupted)
    counted = [r for r in records if r.reason != INTERRUPTED]
    assert sum(costs_budget(r) for r in records) == 14 and {r.state for r in counted} == {
        "complete"
    }
    # Each interrupted candidate was proposed again and completed once.
    for lost in interrupted:
        again = [r for r in counted if r.arch == lost.arch and r.number > lost.number]
        assert len(again) == 1
    # No architecture was trained twice (repeats are flagged, not retrained).
    trained = [r.arch for r in counted if not (r.worker or "").startswith("repeat of")]
    assert len(trained) == len(set(trained))
    lines = (setup / "run" / "trials.jsonl").read_text().splitlines()
    assert len(lines) == len(records)
    info = read_run_info(setup / "run")
    assert len(info.sessions) == 2
    assert info.settings.target_ms == 1000 and info.settings.device == "fake-1gmacs"
    for key in ("python", "torch", "optuna", "ray", "onnxruntime", "hwnas"):
        assert info.versions[key]
    assert info.table.provenance == {"source": "tests"}
    # Same directory, another target: refused, naming both values.
    other = _run(["--trials", "14", "--target-ms", "900", "--run-dir", "run"], env)
    assert other.returncode == 2
    assert other.stderr.strip() == (
        "hwnas: error: run directory 'run' was created with --target-ms 1000, this command has "
        "900: use the same settings to resume or another --run-dir"
    )


@pytest.mark.ray
@pytest.mark.slow
def test_rdb_storage_and_default_target(setup: Path) -> None:
    env = {**os.environ, "HWNAS_FAKE_EVALUATOR": "0"}
    url = f"sqlite:///{setup / 'study.db'}"
    args = ["--trials", "12", "--workers", "1", "--storage", url, "--run-dir", "run"]
    done = _run(args, env)
    assert done.returncode == 0, done.stderr
    records = read_records(setup / "run")
    assert sum(costs_budget(r) for r in records) == 12
    assert not (setup / "run" / "study.journal").exists()
    info = json.loads((setup / "run" / "run.json").read_text())
    # Default target: MobileNetV1 0.5-160's predicted latency, which is then feasible.
    target = info["settings"]["target_ms"]
    assert target == pytest.approx(info["baselines"]["mobilenet_v1_0.5_160"], abs=1e-4)
    assert info["settings"]["target_source"].startswith("default: predicted latency of")
    by_name = {r.baseline: r for r in records if r.baseline}
    assert by_name["mobilenet_v1_0.5_160"].state == "complete"
    assert by_name["mobilenet_v1_1.0_160"].state == "infeasible"
    import optuna

    study = optuna.load_study(study_name="hwnas", storage=url)
    assert len(study.trials) == len(records)


@pytest.mark.ray
def test_a_dead_worker_fails_only_its_trial_and_is_restarted() -> None:
    from search.study.workers import RayPool
    from search.testing import FakeFactory
    from space.baselines import mobilenet_v1

    doomed = mobilenet_v1(0.5, 128, 10, 1)
    fine = [mobilenet_v1(0.25, r, 10, 1) for r in (128, 160, 192)]
    pool = RayPool(FakeFactory(0.2, die_token="c512"), workers=2, threads=1)
    try:
        pool.submit(0, doomed)
        pool.submit(1, fine[0])
        outcomes = []
        while len(outcomes) < 2:
            outcomes += pool.wait(1.0)
        by_number = {o.number: o for o in outcomes}
        assert by_number[0].accuracy is None and "died" in (by_number[0].reason or "")
        assert by_number[1].accuracy is not None
        # Both slots work again, the restarted one included.
        pool.submit(2, fine[1])
        pool.submit(3, fine[2])
        outcomes = []
        while len(outcomes) < 2:
            outcomes += pool.wait(1.0)
        assert all(o.accuracy is not None for o in outcomes)
    finally:
        pool.close()
