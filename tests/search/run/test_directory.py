"""The run directory as a whole: one driver at a time, resumed only with its settings, loaded."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from search.run.directory import JOURNAL_FILE, JOURNAL_LOCK, Run, claim_run_dir, existing_info
from tests.search.run_fixture import RECORDS, TARGET_MS, make_run


def test_one_driver_per_run_dir_and_stale_journal_lock_is_cleared(tmp_path: Path) -> None:
    (tmp_path / JOURNAL_FILE).write_text("")
    (tmp_path / JOURNAL_LOCK).symlink_to(JOURNAL_FILE)  # left by a driver killed mid-write
    claim = claim_run_dir(tmp_path)
    assert not (tmp_path / JOURNAL_LOCK).is_symlink()
    (tmp_path / JOURNAL_LOCK).symlink_to(JOURNAL_FILE)  # now held by the live driver: kept
    with pytest.raises(ValueError, match="is in use by another 'hwnas search'"):
        claim_run_dir(tmp_path)
    assert (tmp_path / JOURNAL_LOCK).is_symlink()
    claim.close()
    assert claim_run_dir(tmp_path)


def test_a_run_is_resumed_only_with_its_settings(tmp_path: Path) -> None:
    run_dir = make_run(tmp_path / "run")
    run = Run.load(run_dir)
    assert existing_info(run_dir, run.info.settings) == run.info
    assert existing_info(tmp_path / "new", run.info.settings) is None
    other = replace(run.info.settings, seed=1)
    with pytest.raises(ValueError, match=r"created with --seed 0, this command has 1"):
        existing_info(run_dir, other)


def test_run_load_reads_info_and_records(tmp_path: Path) -> None:
    run = Run.load(make_run(tmp_path / "run"))
    assert run.records == RECORDS
    assert run.target_ms == TARGET_MS and run.device_name == "synthetic"
    assert run.info.table.path == "table.json"
