"""Atomic file writes: the one helper every hwnas package writes its outputs with.

A file is written to a temporary name in its own directory, flushed to disk and renamed over the
target, so a kill or a crash leaves either the old file or the new one, never half of one. It lives
in ``latency`` because that is the lowest package that writes files (``space`` writes none) and
``search`` may import ``latency``. `latency.bundle_runner` keeps a twin because it runs standalone
on boards where hwnas is not installed.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any


def write_atomic(path: Path, write: Callable[[Path], object]) -> Path:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it to ``path``.

    The temporary name ends in ``path``'s suffix, so writers that pick a format by suffix (e.g.
    matplotlib's ``savefig``) write the right one. The file gets the permissions of a plain new
    file (the umask's), not the private ones of `tempfile.mkstemp`.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=f".tmp{path.suffix}"
    )
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        with tmp.open("rb+") as handle:
            os.fsync(handle.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def write_text_atomic(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` atomically."""
    return write_atomic(path, lambda tmp: tmp.write_text(text))


def write_json_atomic(path: Path, data: Any) -> Path:
    """Write ``data`` as indented JSON (one trailing newline) to ``path`` atomically."""
    return write_text_atomic(path, json.dumps(data, indent=1) + "\n")
