"""Table files: round trip, schema version and corrupt-file errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from latency.enumerate import space_signatures
from latency.profile import build_table
from latency.table import LatencyTable, MissingEntryError
from space import Arch, SearchSpace
from tests.latency.latency_fakes import FakeMeasurer


@pytest.fixture
def built(tmp_path: Path, tiny_space: SearchSpace) -> Path:
    out = tmp_path / "t.json"
    build_table(
        space_signatures(tiny_space),
        out,
        measurer=FakeMeasurer(),
        device={"name": "fake-dev", "threads": 1, "cpu": "x", "arch": "y"},
    )
    return out


def test_round_trip(built: Path, tmp_path: Path) -> None:
    table = LatencyTable.load(built)
    copy = tmp_path / "copy.json"
    table.save(copy)
    again = LatencyTable.load(copy)
    assert again.to_dict() == table.to_dict()
    assert again.entries == table.entries and again.protocol == table.protocol
    assert json.loads(copy.read_text())["schema_version"] == 1


def test_other_schema_version_is_a_clear_error(built: Path) -> None:
    data = json.loads(built.read_text())
    data["schema_version"] = 2
    built.write_text(json.dumps(data))
    with pytest.raises(ValueError, match="schema version 2; this hwnas reads version 1"):
        LatencyTable.load(built)


def test_corrupt_files_are_clear_errors(built: Path) -> None:
    text = built.read_text()
    built.write_text(text[: len(text) // 2])
    with pytest.raises(ValueError, match="is corrupt"):
        LatencyTable.load(built)
    data = json.loads(text)
    data["entries"]["bogus_key"] = {"median_ms": 1, "mean_ms": 1, "std_ms": 0, "runs": 1}
    built.write_text(json.dumps(data))
    with pytest.raises(ValueError, match="bogus_key"):
        LatencyTable.load(built)


def test_missing_entry_names_signature_and_device(built: Path) -> None:
    table = LatencyTable.load(built)
    arch = Arch.parse(
        "stem_r64_i1_c8:ds_r1_k3_s1_c16:ds_r1_k3_s2_c32:ds_r1_k3_s2_c64:ds_r1_k3_s2_c128:"
        "ds_r1_k3_s2_c256:head_n10"
    )
    with pytest.raises(MissingEntryError, match=r"stem_h64_w64_ci1_co8_k3_s2_relu_fp32.*fake-dev"):
        table.predict(arch)
