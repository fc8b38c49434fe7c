"""The devices registry: shipped and imported tables, this machine's table built on first use."""

from __future__ import annotations

from pathlib import Path

import pytest

import latency.profile
from latency.devices import (
    import_file,
    list_devices,
    local_device_name,
    local_table_path,
    resolve_table,
)
from latency.enumerate import space_signatures
from latency.profile import build_table
from latency.table import LatencyTable
from space import SearchSpace
from tests.latency.latency_fakes import FakeMeasurer


@pytest.fixture
def fake_ort(monkeypatch: pytest.MonkeyPatch) -> list[FakeMeasurer]:
    """Replace onnxruntime measurement by a fake; the list holds every measurer made."""
    made: list[FakeMeasurer] = []

    def make(threads: int = 1, timing: object = None) -> FakeMeasurer:
        made.append(FakeMeasurer())
        return made[-1]

    monkeypatch.setattr(latency.profile, "OrtMeasurer", make)
    return made


def test_local_table_is_built_on_first_use_then_reused_and_extended(
    fake_ort: list[FakeMeasurer], tiny_space: SearchSpace, isolated_home: Path
) -> None:
    progress: list[tuple[int, int]] = []
    table, path = resolve_table(space=tiny_space, progress=lambda d, t: progress.append((d, t)))
    assert path == local_table_path(1) == isolated_home / "tables" / f"{local_device_name(1)}.json"
    assert len(table.entries) == 37 and progress[-1] == (37, 37)
    assert "calibration" not in table.protocol
    assert table.device_name == local_device_name(1)
    again, _ = resolve_table(space=tiny_space)
    assert len(fake_ort) == 1 and again.entries == table.entries
    # Another task adds only its stem and head signatures.
    other = tiny_space.with_task(3, 100)
    extended, _ = resolve_table(space=other)
    assert len(fake_ort) == 2
    assert {Path(k).name.split("_")[0] for k in fake_ort[1].layers} == {"stem", "head"}
    assert not extended.missing(space_signatures(other) + space_signatures(tiny_space))
    names = {d.name: d for d in list_devices()}
    assert names[local_device_name(1)].source == "local"


def test_shipped_tables_are_listed() -> None:
    shipped = [d for d in list_devices() if d.source == "shipped"]
    for info in shipped:
        assert info.path.is_file() and info.entries == info.measured + info.modelled


def test_import_lists_and_resolves_by_name(
    tmp_path: Path, tiny_space: SearchSpace, isolated_home: Path
) -> None:
    src = tmp_path / "board.json"
    build_table(
        space_signatures(tiny_space),
        src,
        measurer=FakeMeasurer(),
        device={"name": "pi4-cortex-a72-1t", "threads": 1, "cpu": "A72"},
    )
    table, path = import_file(src)
    assert path.parent == isolated_home / "tables" and path.name == "pi4-cortex-a72-1t.json"
    info = {d.name: d for d in list_devices()}["pi4-cortex-a72-1t"]
    assert info.source == "imported" and info.entries == 37 and info.threads == 1
    resolved, resolved_path = resolve_table(device="pi4-cortex-a72-1t", space=tiny_space)
    assert resolved_path == path and resolved.entries == table.entries
    renamed, renamed_path = import_file(src, name="my-board")
    assert renamed.device_name == "my-board" and renamed_path.name == "my-board.json"


def test_resolve_errors(
    tmp_path: Path, tiny_space: SearchSpace, default_space: SearchSpace
) -> None:
    with pytest.raises(ValueError, match="unknown device 'nope': known devices are"):
        resolve_table(device="nope")
    src = tmp_path / "t.json"
    build_table(
        space_signatures(tiny_space),
        src,
        measurer=FakeMeasurer(),
        device={"name": "tiny-dev", "threads": 1},
    )
    with pytest.raises(
        ValueError,
        match=r"device 'tiny-dev' cannot price layer signature \w+ "
        r"of the search space \(1\d\d\d signatures missing\)",
    ):
        resolve_table(table=src, space=default_space)
    loaded, path = resolve_table(table=src, space=tiny_space)
    assert path == src and len(loaded.entries) == 37
    with pytest.raises(ValueError, match="not both"):
        resolve_table(device="x", table=src)
    with pytest.raises(ValueError, match="does not exist"):
        resolve_table(table=tmp_path / "missing.json")


def test_corrupt_home_table_is_skipped_in_listing(isolated_home: Path) -> None:
    (isolated_home / "tables").mkdir(parents=True)
    (isolated_home / "tables" / "broken.json").write_text("{")
    assert all(d.name != "broken" for d in list_devices())
    with pytest.raises(ValueError, match="corrupt"):
        LatencyTable.load(isolated_home / "tables" / "broken.json")
