"""Validation metrics and the report, on fake measurements."""

from __future__ import annotations

from pathlib import Path

import pytest

from latency.enumerate import space_signatures
from latency.profile import build_table
from latency.validate import mac_scale, metrics, plot_scatter, validate, write_csv
from space import Arch, SearchSpace, count_macs
from tests.latency.latency_fakes import FakeMeasurer


def test_metrics_on_known_values() -> None:
    m = metrics([1.0, 2.2, 2.7, 4.0], [1.0, 2.0, 3.0, 4.4])
    assert m.mape == pytest.approx(100 * (0 + 0.1 + 0.1 + 0.4 / 4.4) / 4)
    assert m.within_5 == 0.25 and m.within_10 == 1.0
    assert m.kendall_tau == 1.0 and m.spearman_rho == 1.0
    assert m.max_abs_error == pytest.approx(10.0)


def test_mac_scale_is_least_squares_through_origin() -> None:
    assert mac_scale([1, 2, 3], [2.0, 4.0, 6.0]) == pytest.approx(2.0)
    assert mac_scale([1, 2], [1.0, 3.0]) == pytest.approx(7 / 5)


def test_validate_with_fake_measurements(tmp_path: Path, tiny_space: SearchSpace) -> None:
    table = build_table(
        space_signatures(tiny_space),
        tmp_path / "t.json",
        measurer=FakeMeasurer(),
        device={"name": "fake", "threads": 1},
    )

    def measure(arch: Arch) -> float:
        return table.predict(arch) * 1.03

    report = validate(table, tiny_space, n=6, seed=1, measure=measure)
    assert report.n == 6 and len(report.rows) == 6 and report.device == "fake"
    assert report.table.within_10 == 1.0 and report.table.within_5 == 1.0
    assert report.table.mape == pytest.approx(100 * 0.03 / 1.03)
    for row in report.rows:
        assert row.macs == count_macs(Arch.parse(row.arch))
        assert row.baseline_ms == pytest.approx(row.macs * report.ms_per_mmac / 1e6)
    again = validate(table, tiny_space, n=6, seed=1, measure=measure)
    assert again == report
    csv_path = write_csv(report, tmp_path / "v" / "validation.csv")
    lines = csv_path.read_text().splitlines()
    assert len(lines) == 7 and lines[0].startswith("arch,macs,measured_ms,predicted_ms")
    png = plot_scatter(report, tmp_path / "v" / "validation.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_validate_refuses_other_machines_and_missing_entries(
    tmp_path: Path, tiny_space: SearchSpace, default_space: SearchSpace
) -> None:
    table = build_table(
        space_signatures(tiny_space),
        tmp_path / "t.json",
        measurer=FakeMeasurer(),
        device={"name": "pi", "threads": 1, "cpu": "Cortex-A72", "arch": "aarch64"},
    )
    with pytest.raises(ValueError, match=r"'pi'.*not measured on this machine"):
        validate(table, tiny_space, n=3)
    with pytest.raises(ValueError, match=r"device 'pi' has no entry for layer signature \w+"):
        validate(table, default_space, n=3, measure=lambda arch: 1.0)
    with pytest.raises(ValueError, match="n >= 2"):
        validate(table, tiny_space, n=1, measure=lambda arch: 1.0)
