"""``run.json``: the typed, versioned description of a run, read and written only here.

`RunInfo` is what ``hwnas search`` resolved before it started (settings, latency table, data set,
proxy schedule, space, baselines' latencies, software versions) and one `Session` per invocation.
Reading is strict: a file of another `RUN_FORMAT`, with a missing or an unknown key, is refused
with a message that says so; there are no fallbacks for older layouts.

`check_same_settings` is the rule for resuming: the settings in `IDENTITY` must match.
"""

from __future__ import annotations

import json
import math
import sys
from dataclasses import MISSING, asdict, dataclass, fields, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from latency.files import write_json_atomic
from search.formatting import plain

RUN_FILE = "run.json"
#: Version of run.json's layout; bump it with any change of the dataclasses below.
RUN_FORMAT = 2
#: Settings that must match for a run directory to be resumed (name -> CLI spelling).
IDENTITY: dict[str, str] = {
    "target_ms": "--target-ms",
    "mode": "--mode",
    "seed": "--seed",
    "device": "--device",
    "table": "--table",
    "dataset": "--dataset",
    "data_dir": "--data-dir",
    "config": "--config",
    "sampler": "--sampler",
}


def now() -> str:
    """UTC timestamp, ISO 8601, milliseconds."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class RunSettings:
    """The settings a search ran with, as resolved (device, table file and target filled in).

    ``config`` is ``{"space": …, "proxy": …}``: the space's definition and the proxy schedule's
    fields (``{"fake_seconds": s}`` under the tests' fake evaluator).
    """

    target_ms: float
    target_source: str
    mode: str
    seed: int
    sampler: str
    device: str
    table: str
    dataset: str
    data_dir: str | None
    config: dict[str, Any]
    trials: int
    workers: int
    threads_per_worker: int
    storage: str
    ray_address: str | None


@dataclass(frozen=True)
class TableInfo:
    """The latency table that priced the run's candidates."""

    path: str
    device: dict[str, Any]
    device_name: str
    provenance: dict[str, Any] | None
    protocol: dict[str, Any]


@dataclass(frozen=True)
class DatasetInfo:
    """The proxy data set; ``fake`` under the tests' fake evaluator (nothing loaded)."""

    name: str
    dir: str | None
    in_channels: int
    num_classes: int
    fake: bool = False
    train: int | None = None
    test: int | None = None
    image_shape: list[int] | None = None


@dataclass(frozen=True)
class ArchLatency:
    """An architecture and its predicted latency on the run's device."""

    arch: str
    latency_ms: float


@dataclass(frozen=True)
class Session:
    """One ``hwnas search`` invocation on the run directory (the first, or a resume)."""

    started: str
    command: str
    trials: int
    workers: int
    timings: dict[str, Any] | None = None
    finished: str | None = None


@dataclass(frozen=True)
class RunInfo:
    """Everything ``run.json`` says about a run (see the module docstring)."""

    created: str
    command: str
    settings: RunSettings
    table: TableInfo
    dataset: DatasetInfo
    proxy_schedule: dict[str, Any]
    space: dict[str, Any]
    baselines: dict[str, float]
    fastest_arch: ArchLatency
    versions: dict[str, str]
    sessions: tuple[Session, ...] = ()
    updated: str | None = None
    format: int = RUN_FORMAT

    @property
    def fake(self) -> bool:
        """Whether the run scored candidates with the tests' fake evaluator (no training)."""
        return self.dataset.fake

    def with_session(self, session: Session) -> RunInfo:
        """This info with ``session`` appended."""
        return replace(self, sessions=(*self.sessions, session))

    def with_last_session(self, **changes: Any) -> RunInfo:
        """This info with the last session's fields changed (e.g. ``finished``)."""
        *earlier, last = self.sessions
        return replace(self, sessions=(*earlier, replace(last, **changes)))

    def to_dict(self) -> dict[str, Any]:
        """The JSON document (``format`` first)."""
        data = asdict(self)
        data["sessions"] = list(data["sessions"])
        return {"format": data.pop("format"), **data}

    @classmethod
    def from_dict(cls, data: Any, source: str = "run.json") -> RunInfo:
        """Validate and build; another format, a missing or an unknown key raise ``ValueError``."""
        if not isinstance(data, dict):
            raise ValueError(f"{source} is corrupt: expected a JSON object")
        version = data.get("format")
        if version != RUN_FORMAT:
            raise ValueError(
                f"{source} has format {version!r}; this hwnas reads format {RUN_FORMAT}: "
                "run the search again into a new --run-dir"
            )
        nested = {
            "settings": _build(RunSettings, data.get("settings"), f"{source}: 'settings'"),
            "table": _build(TableInfo, data.get("table"), f"{source}: 'table'"),
            "dataset": _build(DatasetInfo, data.get("dataset"), f"{source}: 'dataset'"),
            "fastest_arch": _build(
                ArchLatency, data.get("fastest_arch"), f"{source}: 'fastest_arch'"
            ),
        }
        sessions = data.get("sessions", [])
        if not isinstance(sessions, list):
            raise ValueError(f"{source} is corrupt: 'sessions' must be a list")
        nested["sessions"] = tuple(
            _build(Session, item, f"{source}: session {i}") for i, item in enumerate(sessions)
        )
        return _build(cls, {**data, **nested}, source)


T = TypeVar("T")


def _build(cls: type[T], data: Any, where: str) -> T:
    """``cls(**data)`` after checking that ``data`` has every required key and no other."""
    if not isinstance(data, dict):
        raise ValueError(f"{where} is corrupt: expected a JSON object, got {plain(data)}")
    known = fields(cls)  # type: ignore[arg-type]
    names = {f.name for f in known}
    unknown = sorted(set(data) - names)
    if unknown:
        raise ValueError(
            f"{where} has unknown key {unknown[0]!r}: expected {', '.join(sorted(names))}"
        )
    required = [f.name for f in known if f.default is MISSING and f.default_factory is MISSING]
    missing = [name for name in required if name not in data]
    if missing:
        raise ValueError(f"{where} is corrupt: it has no {missing[0]!r}")
    return cls(**data)


def read_run_info(run_dir: Path) -> RunInfo:
    """The `RunInfo` of a run directory; ``ValueError`` if it is not one or its file is bad."""
    run_dir = Path(run_dir)
    path = run_dir / RUN_FILE
    if not run_dir.is_dir():
        raise ValueError(f"run directory {str(run_dir)!r} does not exist")
    if not path.exists():
        raise ValueError(
            f"{str(run_dir)!r} is not an hwnas run directory: it has no {RUN_FILE} "
            "(create one with 'hwnas search --run-dir DIR')"
        )
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"{str(path)!r} is corrupt: {err}") from None
    return RunInfo.from_dict(data, source=repr(str(path)))


def write_run_info(run_dir: Path, info: RunInfo) -> RunInfo:
    """Write run.json atomically with a fresh ``updated`` stamp; returns what was written."""
    info = replace(info, updated=now())
    write_json_atomic(Path(run_dir) / RUN_FILE, info.to_dict())
    return info


def check_same_settings(run_dir: Path, old: RunSettings, new: RunSettings) -> None:
    """``ValueError`` naming the first `IDENTITY` setting in which ``new`` differs from ``old``."""
    for name, flag in IDENTITY.items():
        before, after = getattr(old, name), getattr(new, name)
        if name == "config":
            before, after = _with_current_space_format(before), _with_current_space_format(after)
        if _differs(before, after):
            raise ValueError(
                f"run directory {str(run_dir)!r} was created with {flag} {_show(before)}, "
                f"this command has {_show(after)}: use the same settings to resume or another "
                "--run-dir"
            )


def _with_current_space_format(config: Any) -> Any:
    """``config`` with its space written in today's format: runs created before the space had
    per-stage tables hold the first format, which describes the same space."""
    if not isinstance(config, dict) or not isinstance(config.get("space"), dict):
        return config
    from space import SearchSpace

    try:
        space = SearchSpace.from_dict(config["space"], source="run.json")
    except ValueError:
        return config  # compared as written: the settings check names the difference
    return config | {"space": space.to_dict()}


def _differs(a: Any, b: Any) -> bool:
    if isinstance(a, int | float) and isinstance(b, int | float):
        return not math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    return bool(a != b)


def _show(value: Any) -> str:
    return "a different config" if isinstance(value, dict) else plain(value, missing="(none)")


def software_versions() -> dict[str, str]:
    """Versions of Python and the libraries a result depends on."""
    from importlib.metadata import PackageNotFoundError, version

    found = {"python": sys.version.split()[0]}
    for name in ("hwnas", "torch", "optuna", "ray", "onnxruntime", "numpy"):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found
