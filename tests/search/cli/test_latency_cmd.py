"""``hwnas latency`` commands on a tiny space, writing real files with real (short) timings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import latency
from latency.table import LatencyTable
from search.cli import main
from space import Arch
from tests.latency.latency_fakes import QUICK

ARCH = (
    "stem_r32_i1_c8:ds_r1_k3_s1_c16:ds_r1_k3_s2_c32:ds_r1_k3_s2_c64:ds_r2_k3_s2_c128:"
    "ds_r1_k3_s2_c256:head_n10"
)
OUTSIDE = ARCH.replace("stem_r32", "stem_r64")

pytestmark = pytest.mark.onnx


@pytest.fixture
def built(tmp_path: Path, tiny_config: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    out = tmp_path / "table.json"
    build = ["latency", "build", "--out", str(out), "--config", str(tiny_config), *QUICK]
    assert main([*build, "--calibrate", "4"]) == 0
    captured = capsys.readouterr()
    # 37 signatures and 4 calibration networks measured 3 times each.
    assert "37 entries" in captured.out and "49/49" in captured.err
    assert "calibration on 4 whole networks: entries x " in captured.out
    return out


def test_build_refuses_a_calibration_on_too_few_networks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["latency", "build", "--out", str(tmp_path / "t.json"), "--calibrate", "2"]) == 2
    err = capsys.readouterr().err
    assert "--calibrate must be 0 (no calibration) or >= 4 networks, got 2" in err
    assert not (tmp_path / "t.json").exists()


def test_build_writes_a_full_table(built: Path) -> None:
    table = LatencyTable.load(built)
    assert len(table.entries) == 37
    assert all(e.runs >= 3 and e.median_ms > 0 for e in table.entries.values())
    assert table.protocol["min_runs"] == 3 and table.protocol["max_runs"] == 5
    assert table.device["threads"] == 1
    assert table.protocol["calibration"]["networks"] == 4


def test_predict_json_and_errors(built: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["latency", "predict", ARCH, ARCH, "--table", str(built), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    table = LatencyTable.load(built)
    assert [r["arch"] for r in rows] == [ARCH, ARCH]
    assert rows[0]["latency_ms"] == pytest.approx(table.predict(Arch.parse(ARCH)))
    assert rows[0]["device"] == table.device_name
    assert main(["latency", "predict", OUTSIDE, "--table", str(built)]) == 2
    err = capsys.readouterr().err
    assert "stem_h64_w64_ci1_co8_k3_s2_relu_fp32" in err and table.device_name in err
    assert main(["latency", "predict", ARCH]) == 2
    assert "--table FILE or --device NAME" in capsys.readouterr().err
    assert main(["latency", "predict", ARCH, "--device", "nope"]) == 2
    assert "unknown device 'nope'" in capsys.readouterr().err


def test_import_devices_predict_by_name(
    built: Path, isolated_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["latency", "import", str(built), "--name", "bench-box"]) == 0
    assert (isolated_home / "tables" / "bench-box.json").is_file()
    capsys.readouterr()
    assert main(["latency", "devices", "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["bench-box"]["entries"] == 37 and rows["bench-box"]["source"] == "imported"
    assert rows["bench-box"]["threads"] == 1 and rows["bench-box"]["measured"] == 37
    assert main(["latency", "devices"]) == 0
    assert "bench-box" in capsys.readouterr().out
    assert main(["latency", "predict", ARCH, "--device", "bench-box", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["device"] == "bench-box"
    bad = built.parent / "bad.json"
    bad.write_text('{"schema_version": 7}')
    assert main(["latency", "import", str(bad)]) == 2
    assert "schema version 7" in capsys.readouterr().err
    assert main(["latency", "import", str(built), "--format", "csv"]) == 2
    assert "unknown --format 'csv'" in capsys.readouterr().err


def test_validate_writes_csv_png_json(
    built: Path, tiny_config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "val"
    args = [
        "latency",
        "validate",
        "--table",
        str(built),
        "--n",
        "3",
        "--seed",
        "2",
        "--config",
        str(tiny_config),
        "--out",
        str(out),
        "--json",
    ]
    assert main(args) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["n"] == 3 and summary["seed"] == 2
    assert set(summary["table"]) >= {"mape", "within_5", "within_10", "kendall_tau", "spearman_rho"}
    assert len((out / "validation.csv").read_text().splitlines()) == 4
    assert (out / "validation.png").read_bytes()[:4] == b"\x89PNG"
    report = json.loads((out / "validation.json").read_text())
    assert len(report["rows"]) == 3 and all(r["measured_ms"] > 0 for r in report["rows"])


def test_bundle_folder_and_incremental_build(
    built: Path, tiny_config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "bundle"
    assert main(["latency", "bundle", "--out", str(folder), "--config", str(tiny_config)]) == 0
    manifest = json.loads((folder / "manifest.json").read_text())
    assert len(manifest["layers"]) == 37
    assert all((folder / item["file"]).is_file() for item in manifest["layers"])
    assert (folder / "run.py").is_file() and (folder / "layers" / "weights.bin").is_file()
    # No calibration networks by default, as a local build does not calibrate by default.
    assert not (manifest.get("calibration") or {}).get("networks")
    assert main(["latency", "bundle", "--out", str(folder), "--config", str(tiny_config)]) == 2
    assert "not empty" in capsys.readouterr().err
    # Re-running build on a complete table measures nothing and keeps every entry.
    before = LatencyTable.load(built).entries
    assert (
        main(["latency", "build", "--out", str(built), "--config", str(tiny_config), *QUICK]) == 0
    )
    assert LatencyTable.load(built).entries == before


def test_bad_options_are_one_line_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(
            [
                "latency",
                "build",
                "--out",
                str(tmp_path / "t.json"),
                "--min-runs",
                "9",
                "--max-runs",
                "3",
            ]
        )
        == 2
    )
    assert "--min-runs 9 exceeds --max-runs 3" in capsys.readouterr().err
    assert (
        main(
            [
                "latency",
                "build",
                "--out",
                str(tmp_path / "t.json"),
                "--config",
                str(tmp_path / "none.toml"),
            ]
        )
        == 2
    )
    assert "does not exist" in capsys.readouterr().err


def test_import_tflite_profile(isolated_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = Path(latency.__file__).parent / (
        "tables/data/proxylessnas_tflite_profile_log/proxyless_mobile_10_latency.txt"
    )
    args = [
        "latency",
        "import",
        str(log),
        "--format",
        "tflite-profile",
        "--network",
        "proxylessnas-mobile",
        "--name",
        "pixel-test",
    ]
    assert main(args) == 0
    assert "pixel-test" in capsys.readouterr().out
    table = LatencyTable.load(isolated_home / "tables" / "pixel-test.json")
    assert table.device_name == "pixel-test" and len(table.entries) > 10
    assert main(["latency", "import", str(log), "--arch", ARCH]) == 2
    assert "--format tflite-profile only" in capsys.readouterr().err


def test_build_with_calibration(tmp_path: Path, tiny_config: Path) -> None:
    out = tmp_path / "cal.json"
    args = [
        "latency",
        "build",
        "--out",
        str(out),
        "--config",
        str(tiny_config),
        *QUICK,
        "--calibrate",
        "4",
    ]
    assert main(args) == 0
    table = LatencyTable.load(out)
    fit = table.protocol["calibration"]
    assert fit["networks"] == 4 and len(fit["archs"]) == 4 and fit["passes"] == 3
    assert table.network_overhead_ms == pytest.approx(fit["overhead_ms"])
    # Re-running does not calibrate twice.
    assert main(args) == 0
    assert LatencyTable.load(out).entries == table.entries
