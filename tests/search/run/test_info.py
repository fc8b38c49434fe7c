"""run.json: typed, versioned, strict; the settings a resume must repeat."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from search.run.info import (
    RUN_FORMAT,
    RunInfo,
    Session,
    check_same_settings,
    read_run_info,
    write_run_info,
)
from space import SearchSpace
from tests.search.run_fixture import make_table, run_info

REPO = Path(__file__).resolve().parents[3]


def _info() -> RunInfo:
    return run_info(make_table([]), "table.json")


def test_round_trip_through_the_file(tmp_path: Path) -> None:
    info = _info().with_session(Session(started="s", command="c", trials=3, workers=1))
    written = write_run_info(tmp_path, info)
    assert written.updated is not None and written == replace(info, updated=written.updated)
    assert read_run_info(tmp_path) == written
    data = json.loads((tmp_path / "run.json").read_text())
    assert next(iter(data)) == "format" and data["format"] == RUN_FORMAT == 2
    assert data["sessions"][-1] == {
        "started": "s",
        "command": "c",
        "trials": 3,
        "workers": 1,
        "timings": None,
        "finished": None,
    }


def test_last_session_is_updated_in_place() -> None:
    info = _info().with_last_session(finished="later")
    assert len(info.sessions) == 1 and info.sessions[0].finished == "later"


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d.update(format=1), "has format 1; this hwnas reads format 2"),
        (lambda d: d.pop("format"), "has format None; this hwnas reads format 2"),
        (lambda d: d["settings"].pop("seed"), "'settings' is corrupt: it has no 'seed'"),
        (lambda d: d["settings"].update(table_path="t"), "'settings' has unknown key 'table_path'"),
        (lambda d: d.update(schedule={}), "has unknown key 'schedule'"),
        (lambda d: d.update(dataset="synthetic"), "'dataset' is corrupt: expected a JSON object"),
        (lambda d: d.update(sessions={}), "'sessions' must be a list"),
    ],
)
def test_other_layouts_are_refused_with_a_reason(
    tmp_path: Path, edit: object, message: str
) -> None:
    write_run_info(tmp_path, _info())
    data = json.loads((tmp_path / "run.json").read_text())
    edit(data)  # type: ignore[operator]
    (tmp_path / "run.json").write_text(json.dumps(data))
    with pytest.raises(ValueError, match=message):
        read_run_info(tmp_path)


def test_read_run_info_names_a_directory_that_is_not_a_run(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="is not an hwnas run directory"):
        read_run_info(tmp_path)
    with pytest.raises(ValueError, match="does not exist"):
        read_run_info(tmp_path / "missing")
    (tmp_path / "run.json").write_text("{not json")
    with pytest.raises(ValueError, match="is corrupt"):
        read_run_info(tmp_path)


def test_settings_mismatch_names_the_setting(tmp_path: Path) -> None:
    settings = _info().settings
    check_same_settings(tmp_path, settings, replace(settings, trials=99, workers=7))
    with pytest.raises(ValueError, match=r"created with --seed 0, this command has 1"):
        check_same_settings(tmp_path, settings, replace(settings, seed=1))
    with pytest.raises(ValueError, match=r"--target-ms 5, this command has 6"):
        check_same_settings(tmp_path, settings, replace(settings, target_ms=6.0))
    with pytest.raises(ValueError, match=r"--data-dir \(none\), this command has /d"):
        check_same_settings(tmp_path, settings, replace(settings, data_dir="/d"))
    with pytest.raises(ValueError, match=r"--config a different config, this command has a"):
        check_same_settings(tmp_path, settings, replace(settings, config={"space": {"x": 1}}))


def test_a_run_written_with_the_first_space_format_resumes(
    tmp_path: Path, first_format_space: dict[str, object]
) -> None:
    settings = _info().settings
    old = replace(settings, config={"space": first_format_space, "proxy": {}})
    today = SearchSpace.default().with_task(1, 10).to_dict()
    check_same_settings(tmp_path, old, replace(settings, config={"space": today, "proxy": {}}))
    other = SearchSpace.default().with_task(1, 7).to_dict()
    with pytest.raises(ValueError, match="created with --config a different config"):
        check_same_settings(tmp_path, old, replace(settings, config={"space": other, "proxy": {}}))


def test_every_committed_run_loads() -> None:
    found = sorted((REPO / "results").rglob("run.json"))
    assert found, "results/ should hold at least the example run"
    for path in found:
        info = read_run_info(path.parent)
        assert info.format == RUN_FORMAT and info.sessions
