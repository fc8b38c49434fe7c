"""The search loop with a fake evaluator and a fake latency model (real Optuna, no Ray)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import optuna
import pytest

from search.proxy.train import EvalResult
from search.run.records import read_records
from search.study import loop, setup
from search.study.loop import run_search
from search.study.setup import fastest_arch
from search.study.workers import LocalPool
from search.testing import fake_result
from space import Arch
from space.layers import count_macs
from space.search_space import SearchSpace

SPACE = SearchSpace.from_dict(
    {
        "resolutions": [128, 160],
        "width_multipliers": [0.25, 0.5, 0.75, 1.0],
        "kernels": [3, 5],
        "depths": [[1], [1, 2], [1, 2], [2, 6], [1, 2]],
    },
    source="test",
).with_task(1, 10)


class MacsLatency:
    """Milliseconds = MACs / 1e7 (the fake device does 10 GMAC/s)."""

    def predict(self, arch: Arch) -> float:
        return count_macs(arch) / 1e7


class RecordingEvaluator:
    """Accuracy grows with MACs; remembers what it was asked; fails on a chosen width."""

    def __init__(self, fail_width: int | None = None) -> None:
        self.calls: list[str] = []
        self.fail_width = fail_width

    def evaluate(self, arch: Arch) -> EvalResult:
        self.calls.append(arch.to_str())
        if self.fail_width is not None and arch.stages[0].width == self.fail_width:
            raise FloatingPointError("loss is nan at step 3")
        return fake_result(1.0 - 0.5 / (1.0 + count_macs(arch) / 2e6), arch)


LATENCY = MacsLatency()
BASELINES = dict(SPACE.baselines())
# Baseline latencies: 0.25_128 ~ 0.2 ms ... 1.0_160 ~ 6.3 ms; this target splits them.
TARGET = LATENCY.predict(BASELINES["mobilenet_v1_0.5_160"])


def new_study(run_dir: Path, *, mode: str = "target", sampler: str = "tpe") -> Any:
    study = setup.open_study(
        storage=None,
        run_dir=run_dir,
        mode=mode,  # type: ignore[arg-type]
        sampler=setup.make_sampler(sampler, mode=mode, seed=0),  # type: ignore[arg-type]
    )
    if not study.get_trials(deepcopy=False):
        setup.enqueue_baselines(study, SPACE, LATENCY)
    return study


def search(run_dir: Path, evaluator: Any, n_trials: int, **kw: Any) -> loop.SearchResult:
    study = kw.pop("study", None) or new_study(run_dir, mode=kw.get("mode", "target"))
    return run_search(
        study=study,
        space=SPACE,
        latency=LATENCY,
        pool=LocalPool(evaluator),
        run_dir=run_dir,
        target_ms=kw.pop("target_ms", TARGET),
        mode=kw.pop("mode", "target"),
        n_trials=n_trials,
    )


def test_baselines_first_fastest_first_and_infeasible_never_trained(tmp_path: Path) -> None:
    evaluator = RecordingEvaluator()
    result = search(tmp_path, evaluator, n_trials=24)
    records = read_records(tmp_path)
    assert len(records) == len(result.records)
    # The budget counts trained trials only: infeasible and repeated candidates are free.
    assert sum(loop.costs_budget(r) for r in records) == 24 == result.progress.done
    assert len(records) == 24 + result.progress.free
    n_base = len(BASELINES)
    assert n_base == 8
    head = records[:n_base]
    assert [r.baseline for r in head] == sorted(
        BASELINES, key=lambda n: LATENCY.predict(BASELINES[n])
    )
    assert all(r.baseline is None for r in records[n_base:])
    assert [r.latency_ms for r in head] == sorted(r.latency_ms for r in head)
    infeasible = [r for r in records if r.state == "infeasible"]
    assert infeasible, "the target must make some baselines infeasible"
    assert all(r.latency_ms > TARGET and r.accuracy is None for r in infeasible)
    assert all("> target" in (r.reason or "") for r in infeasible)
    # The evaluator never saw an infeasible candidate.
    assert not {r.arch for r in infeasible} & set(evaluator.calls)
    complete = [r for r in records if r.state == "complete"]
    assert all(r.latency_ms <= TARGET and r.accuracy is not None for r in complete)
    # Each distinct feasible architecture was trained exactly once.
    assert len(evaluator.calls) == len(set(evaluator.calls))


def test_constraints_reach_the_sampler(tmp_path: Path) -> None:
    study = new_study(tmp_path)
    search(tmp_path, RecordingEvaluator(), n_trials=12, study=study)
    for trial in study.get_trials(deepcopy=False):
        record = trial.user_attrs["record"]
        assert trial.constraints == {"latency": pytest.approx(record["latency_ms"] - TARGET)}
        feasible = trial.constraints["latency"] <= 0
        assert feasible == (record["state"] != "infeasible")
    # The study's best trial is the most accurate feasible one.
    best = max(
        (r for r in read_records(tmp_path) if r.state == "complete"), key=lambda r: r.accuracy or 0
    )
    assert study.best_trial.number == best.number


def test_tell_triggers_sampler_after_trial_with_constraints(tmp_path: Path) -> None:
    seen: list[dict[str, float]] = []

    class Spy(optuna.samplers.RandomSampler):
        def after_trial(self, study: Any, trial: Any, state: Any, values: Any) -> None:
            seen.append(dict(trial.constraints))
            super().after_trial(study, trial, state, values)

    study = setup.open_study(storage=None, run_dir=tmp_path, mode="target", sampler=Spy(seed=0))
    setup.enqueue_baselines(study, SPACE, LATENCY)
    search(tmp_path, RecordingEvaluator(), n_trials=8, study=study)
    assert len(seen) == len(read_records(tmp_path)) and all(set(c) == {"latency"} for c in seen)
    assert any(c["latency"] > 0 for c in seen) and any(c["latency"] <= 0 for c in seen)


def test_failed_trials_are_recorded_and_the_search_goes_on(tmp_path: Path) -> None:
    evaluator = RecordingEvaluator(fail_width=16)  # stage 1 width 16: alpha 0.25 baselines
    search(tmp_path, evaluator, n_trials=14)
    records = read_records(tmp_path)
    assert sum(loop.costs_budget(r) for r in records) == 14
    failed = [r for r in records if r.state == "failed"]
    assert failed and all(r.reason == "FloatingPointError: loss is nan at step 3" for r in failed)
    assert any(r.state == "complete" for r in records[failed[-1].number + 1 :] + records)
    study = new_study(tmp_path)
    states = {t.number: t.state for t in study.get_trials(deepcopy=False)}
    assert all(states[r.number] == optuna.trial.TrialState.FAIL for r in failed)


def test_nan_accuracy_is_a_failure(tmp_path: Path) -> None:
    class NaN:
        def evaluate(self, arch: Arch) -> EvalResult:
            return fake_result(float("nan"), arch)

    search(tmp_path, NaN(), n_trials=8, target_ms=100.0)
    assert [r.state for r in read_records(tmp_path)] == ["failed"] * 8
    assert read_records(tmp_path)[0].reason == "accuracy is nan"


def test_pareto_mode_has_two_objectives_and_keeps_the_target(tmp_path: Path) -> None:
    study = new_study(tmp_path, mode="pareto")
    search(tmp_path, RecordingEvaluator(), n_trials=12, study=study, mode="pareto")
    assert len(study.directions) == 2
    records = {r.number: r for r in read_records(tmp_path)}
    for trial in study.best_trials:
        assert records[trial.number].state == "complete"
        assert trial.values == [records[trial.number].accuracy, records[trial.number].latency_ms]


def test_resume_continues_without_losing_or_repeating(tmp_path: Path) -> None:
    evaluator = RecordingEvaluator()
    search(tmp_path, evaluator, n_trials=10)
    first = read_records(tmp_path)
    search(tmp_path, evaluator, n_trials=20)
    records = read_records(tmp_path)
    assert sum(loop.costs_budget(r) for r in records) == 20
    assert records[: len(first)] == first
    assert [r.number for r in records] == list(range(len(records)))
    lines = (tmp_path / "trials.jsonl").read_text().splitlines()
    assert len(lines) == len(records)  # nothing written twice
    assert len(evaluator.calls) == len(set(evaluator.calls))


def test_resume_fails_and_requeues_trials_left_running(tmp_path: Path) -> None:
    search(tmp_path, RecordingEvaluator(), n_trials=9)
    # A driver killed mid-trial leaves a RUNNING trial with its parameters suggested (here even
    # before its attributes were stored: the record is rebuilt from the parameters).
    study = new_study(tmp_path)
    trial = study.ask()
    arch = SPACE.suggest(trial)
    killed = trial.number
    # A kill between tell and the append: complete in the study, missing from trials.jsonl.
    jsonl = tmp_path / "trials.jsonl"
    lines = jsonl.read_text().splitlines()
    jsonl.write_text("\n".join(lines[:-1]) + "\n")
    lost = json.loads(lines[-1])["number"]

    evaluator = RecordingEvaluator()
    result = search(tmp_path, evaluator, n_trials=12, study=new_study(tmp_path))
    assert result.requeued == [killed]
    records = {r.number: r for r in read_records(tmp_path)}
    assert records[lost].state != "failed"  # recovered from the study, not redone
    assert records[killed].state == "failed" and records[killed].reason == setup.INTERRUPTED
    assert records[killed].arch == arch.to_str()
    assert records[killed].latency_ms == pytest.approx(LATENCY.predict(arch))
    assert records[killed].macs == count_macs(arch)
    redo = [r for r in records.values() if r.number > killed and r.arch == arch.to_str()]
    assert len(redo) == 1 and redo[0].state in ("complete", "infeasible")
    assert sum(loop.costs_budget(r) for r in records.values()) == 12


def test_fastest_arch_is_the_minimum_choice() -> None:
    fastest = fastest_arch(SPACE)
    assert fastest.resolution == 128 and fastest.stem_width == 8
    assert [s.depth for s in fastest.stages] == [1, 1, 1, 2, 1]
    assert {s.kernel for s in fastest.stages} == {3}
    floor = LATENCY.predict(fastest)
    with pytest.raises(ValueError, match=r"below the fastest architecture .* predicted at"):
        setup.check_target(floor * 0.9, SPACE, LATENCY, "fake")
    setup.check_target(floor, SPACE, LATENCY, "fake")


def test_a_target_too_tight_for_the_sampler_stops_the_search(tmp_path: Path) -> None:
    floor = LATENCY.predict(fastest_arch(SPACE))
    evaluator = RecordingEvaluator()
    study = new_study(tmp_path, sampler="random")
    result = search(tmp_path, evaluator, n_trials=2, target_ms=floor, study=study)
    assert result.progress.stopped is not None and "cap 140" in result.progress.stopped
    assert result.progress.free == loop.free_cap(2) == 140
    assert all(r.state == "infeasible" for r in read_records(tmp_path)) and not evaluator.calls


def _suggest_some(trial: Any, count: int) -> None:
    """Suggest the first ``count`` parameters of the space, as a driver killed mid-ask would."""
    for name, choices in list(SPACE.param_choices().items())[:count]:
        trial.suggest_categorical(name, list(choices))


def test_a_baseline_killed_while_being_asked_is_asked_again_whole(tmp_path: Path) -> None:
    study = new_study(tmp_path)
    trial = study.ask()  # the fastest baseline, enqueued
    _suggest_some(trial, 3)
    name = trial.user_attrs["baseline"]
    result = search(tmp_path, RecordingEvaluator(), n_trials=10, study=new_study(tmp_path))
    assert result.requeued == [trial.number]
    records = read_records(tmp_path)
    assert trial.number not in {r.number for r in records}  # never priced: nothing to record
    again = [r for r in records if r.baseline == name]
    assert len(again) == 1 and again[0].state == "complete"
    assert again[0].arch == BASELINES[name].to_str()


def test_a_sampler_proposal_killed_while_being_asked_is_dropped(tmp_path: Path) -> None:
    study = setup.open_study(
        storage=None,
        run_dir=tmp_path,
        mode="target",
        sampler=setup.make_sampler("random", mode="target", seed=0),
    )
    trial = study.ask()  # no baselines enqueued: the sampler's own proposal
    _suggest_some(trial, 3)
    result = search(tmp_path, RecordingEvaluator(), n_trials=5, study=study)
    assert result.requeued == []
    records = read_records(tmp_path)
    assert records and trial.number not in {r.number for r in records}
    assert all(r.arch for r in records)
    states = {t.number: t.state for t in study.get_trials(deepcopy=False)}
    assert states[trial.number] == optuna.trial.TrialState.FAIL
