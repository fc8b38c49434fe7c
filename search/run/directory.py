"""A run directory as a whole: claimed by one driver, resumed only with its settings, loaded.

Writers claim the directory (`claim_run_dir`) so that two searches never write one run; a
resumed search must have the settings it was created with (`existing_info`). Readers load it
(`Run.load`) without a claim, so they work on a run that is still going.
"""

from __future__ import annotations

import fcntl
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from search.run.info import RUN_FILE, RunInfo, RunSettings, check_same_settings, read_run_info
from search.run.records import TrialRecord, read_records

JOURNAL_FILE = "study.journal"
#: Held (flock) by the one driver writing a run; the kernel drops it when that process dies.
DRIVER_LOCK = ".driver.lock"
#: Optuna's lock beside the journal (optuna.storages.journal._file.LOCK_FILE_SUFFIX).
JOURNAL_LOCK = JOURNAL_FILE + ".lock"


def claim_run_dir(run_dir: Path) -> IO[str]:
    """Make this process the only driver of ``run_dir`` until it ends (a SIGKILL included).

    Holding the claim, an Optuna journal lock left in the directory can only come from a killed
    driver; Optuna would wait out a 30 s grace period before breaking it, so it is removed here.
    Keep the returned handle open for as long as the search runs.
    """
    handle = (run_dir / DRIVER_LOCK).open("a")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise ValueError(
            f"run directory {str(run_dir)!r} is in use by another 'hwnas search': "
            "wait for it to finish or use another --run-dir"
        ) from None
    stale = run_dir / JOURNAL_LOCK
    if stale.is_symlink() or stale.exists():
        stale.unlink()
    return handle


def existing_info(run_dir: Path, settings: RunSettings) -> RunInfo | None:
    """The run.json of a run to resume, or None for a new run dir.

    ``ValueError`` if the run was created with other settings (see `check_same_settings`).
    """
    if not (run_dir / RUN_FILE).exists():
        return None
    info = read_run_info(run_dir)
    check_same_settings(run_dir, info.settings, settings)
    return info


@dataclass(frozen=True)
class Run:
    """A run directory as read now: its description and its finished trials."""

    path: Path
    info: RunInfo
    records: list[TrialRecord]

    @classmethod
    def load(cls, path: str | Path) -> Run:
        """Read ``run.json`` and ``trials.jsonl``; ``ValueError`` if ``path`` is not a run dir."""
        path = Path(path)
        info = read_run_info(path)
        return cls(path=path, info=info, records=read_records(path))

    @property
    def target_ms(self) -> float:
        """The latency target the run searched under."""
        return self.info.settings.target_ms

    @property
    def device_name(self) -> str:
        """The short name of the run's device."""
        return self.info.table.device_name
