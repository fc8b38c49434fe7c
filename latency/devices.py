"""The latency tables this installation knows: shipped, imported and this machine's own.

* shipped: ``latency/tables/*.json`` (package data);
* imported and local: ``$HWNAS_HOME/tables/*.json`` (default ``~/.cache/hwnas``). This machine's
  table is ``local-<cpu>-<N>t.json`` there, built on first use and extended with any signature a
  search space needs that it lacks.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from latency import bundle_runner as runner
from latency.signature import Signature
from latency.table import LatencyTable
from space import SearchSpace

LOCAL_PREFIX = "local-"


@dataclass(frozen=True)
class DeviceInfo:
    """One known table: its name, file, thread count, size, origin and description."""

    name: str
    path: Path
    threads: int | None
    entries: int
    measured: int
    modelled: int
    source: str
    device: dict[str, Any]
    provenance: str


def hwnas_home() -> Path:
    """``$HWNAS_HOME`` or ``~/.cache/hwnas``: where imported and local tables live."""
    return Path(os.environ.get("HWNAS_HOME") or Path.home() / ".cache" / "hwnas")


def tables_dir() -> Path:
    """``$HWNAS_HOME/tables``."""
    return hwnas_home() / "tables"


def shipped_dir() -> Path:
    """The package's ``latency/tables`` folder."""
    return Path(str(resources.files("latency").joinpath("tables")))


def local_device_name(threads: int = 1) -> str:
    """This machine's device name at ``threads``, e.g. ``local-intel-xeon-1t``."""
    return f"{LOCAL_PREFIX}{runner.slug(runner.cpu_model())}-{threads}t"


def local_table_path(threads: int = 1) -> Path:
    """Where this machine's table at ``threads`` is cached."""
    return tables_dir() / f"{local_device_name(threads)}.json"


def _info(path: Path, source: str) -> DeviceInfo:
    table = LatencyTable.load(path)
    threads = table.device.get("threads")
    sources = [e.source for e in table.entries.values()]
    provenance = table.provenance or {}
    summary = str(provenance.get("source") or provenance.get("summary") or "")
    return DeviceInfo(
        name=table.device_name,
        path=path,
        threads=int(threads) if isinstance(threads, int) else None,
        entries=len(table.entries),
        measured=sources.count("measured"),
        modelled=sources.count("modelled"),
        source=source,
        device=table.device,
        provenance=summary,
    )


def list_devices() -> list[DeviceInfo]:
    """Every readable table: shipped first, then those under ``$HWNAS_HOME/tables``, by name.

    A corrupt file in the home folder is skipped here (``resolve_table`` on it reports why).
    """
    found: list[DeviceInfo] = []
    folders = [(shipped_dir(), "shipped"), (tables_dir(), None)]
    for folder, fixed in folders:
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.json")):
            source = fixed or ("local" if path.name.startswith(LOCAL_PREFIX) else "imported")
            try:
                found.append(_info(path, source))
            except ValueError:
                continue
    return found


def _check_covers(table: LatencyTable, space: SearchSpace) -> None:
    from latency.enumerate import space_signatures

    missing = table.missing(space_signatures(space, table.activation, table.dtype))
    if missing:
        raise ValueError(
            f"the table of device {table.device_name!r} cannot price layer signature "
            f"{missing[0].key} of the search space ({len(missing)} signatures missing): "
            "measure them with 'hwnas latency build' or choose another table"
        )


def resolve_table(
    device: str | None = None,
    table: str | Path | None = None,
    *,
    space: SearchSpace | None = None,
    threads: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[LatencyTable, Path]:
    """The table to price architectures with, and its file.

    ``table``: a file path. ``device``: a name from `list_devices`. Neither: this machine's table
    at ``threads``, built on first use under ``$HWNAS_HOME`` and extended with every signature of
    ``space`` (default: the default space) it lacks. A given table or device that cannot price
    some signature of ``space`` raises ``ValueError`` naming it.
    """
    if device is not None and table is not None:
        raise ValueError(f"give a device ({device!r}) or a table file ({str(table)!r}), not both")
    if table is not None:
        path = Path(table)
        loaded = LatencyTable.load(path)
    elif device is not None:
        known = list_devices()
        match = [d for d in known if d.name == device]
        if not match:
            names = ", ".join(d.name for d in known) or "none"
            raise ValueError(f"unknown device {device!r}: known devices are {names}")
        path = match[0].path
        loaded = LatencyTable.load(path)
    else:
        return ensure_local_table(space=space, threads=threads, progress=progress)
    if space is not None:
        _check_covers(loaded, space)
    return loaded, path


def ensure_local_table(
    *,
    space: SearchSpace | None = None,
    signatures: list[Signature] | None = None,
    threads: int = 1,
    progress: Callable[[int, int], None] | None = None,
    path: Path | None = None,
) -> tuple[LatencyTable, Path]:
    """This machine's table, measuring whatever it does not have yet of ``signatures``.

    ``signatures`` default to every signature of ``space`` (default: the default space); pass
    one network's (`latency.signature.arch_signatures`) to price just that network.
    """
    from latency.enumerate import space_signatures
    from latency.profile import build_table

    if signatures is None:
        signatures = space_signatures(space or SearchSpace.default())
    path = path or local_table_path(threads)
    if path.exists():
        existing = LatencyTable.load(path)
        if not existing.missing(signatures):
            return existing, path
    built = build_table(
        signatures,
        path,
        threads=threads,
        device=runner.describe_device(threads, name=local_device_name(threads)),
        progress=progress,
        provenance={"source": "hwnas latency build (automatic, first use)"},
    )
    return built, path


def import_table(table: LatencyTable, name: str | None = None) -> Path:
    """Save ``table`` under ``$HWNAS_HOME/tables`` (renamed to ``name`` if given) and return it."""
    if name is not None:
        table.device = {**table.device, "name": name}
    file_name = runner.slug(table.device_name)
    if file_name.startswith(LOCAL_PREFIX):
        # Names starting with 'local-' are this machine's own tables in list_devices.
        file_name = f"imported-{file_name}"
    path = tables_dir() / f"{file_name}.json"
    table.save(path)
    return path


def import_file(path: str | Path, name: str | None = None) -> tuple[LatencyTable, Path]:
    """Validate an hwnas table file and copy it into ``$HWNAS_HOME/tables``."""
    table = LatencyTable.load(path)
    if name is None and Path(path).resolve().parent == tables_dir().resolve():
        return table, Path(path)
    return table, import_table(table, name)
