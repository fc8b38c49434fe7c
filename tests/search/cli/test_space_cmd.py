"""``hwnas space``: baselines against the paper, sampling, per-layer views and one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from search.cli import main
from space import Arch, SearchSpace, count_macs, count_params, count_trainable_params, layers

PAPER = {  # Howard et al. 2017, Tables 6 and 7: millions of multiply-adds and parameters.
    "mobilenet_v1_1.0_224": (569, 4.2),
    "mobilenet_v1_0.75_224": (325, 2.6),
    "mobilenet_v1_0.5_224": (149, 1.3),
    "mobilenet_v1_0.25_224": (41, 0.5),
    "mobilenet_v1_1.0_192": (418, 4.2),
    "mobilenet_v1_1.0_160": (290, 4.2),
    "mobilenet_v1_1.0_128": (186, 4.2),
}


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["space", *args])
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> object:
    code, out, err = run(capsys, *args)
    assert (code, err) == (0, "")
    return json.loads(out)


def test_baselines_json_against_the_paper(capsys: pytest.CaptureFixture[str]) -> None:
    rows = run_json(capsys, "baselines", "--json")
    assert isinstance(rows, list) and len(rows) == 16
    by_name = {row["name"]: row for row in rows}
    assert len(by_name) == 16
    assert {(r["alpha"], r["resolution"]) for r in rows} == {
        (a, r) for a in (1.0, 0.75, 0.5, 0.25) for r in (224, 192, 160, 128)
    }
    for name, (paper_macs, paper_params) in PAPER.items():
        row = by_name[name]
        assert row["macs"] / 1e6 == pytest.approx(paper_macs, rel=0.01)
        assert round(row["params"] / 1e6, 1) == paper_params
        assert row["paper_macs_millions"] == paper_macs
        assert row["paper_params_millions"] == paper_params
    for row in rows:
        arch = Arch.parse(row["arch"])
        assert (arch.resolution, arch.num_classes) == (row["resolution"], 1000)
        assert row["macs"] == count_macs(arch) and row["params"] == count_params(arch)
        if row["name"] not in PAPER:
            assert row["paper_macs_millions"] is None and row["paper_params_millions"] is None
            assert row["macs_vs_paper"] is None
    assert by_name["mobilenet_v1_1.0_224"]["macs"] == 568_740_352
    assert by_name["mobilenet_v1_1.0_224"]["trainable_params"] == 4_231_976
    assert by_name["mobilenet_v1_0.5_160"]["arch"] == (
        "stem_r160_i3_c16:ds_r1_k3_s1_c32:ds_r2_k3_s2_c64:ds_r2_k3_s2_c128:"
        "ds_r6_k3_s2_c256:ds_r2_k3_s2_c512:head_n1000"
    )


def test_baselines_table_for_humans(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "baselines")
    assert (code, err) == (0, "")
    assert "mobilenet_v1_1.0_224" in out and "568.7" in out and "569" in out
    assert "-0.05%" in out  # 568.74 vs the paper's 569
    # Every arch string is printed whole on its own line, ready to paste into 'space show'.
    lines = out.splitlines()
    assert sum(line.startswith("mobilenet_v1_") and ":head_n1000" in line for line in lines) == 16


def test_sample_is_deterministic_and_members(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "sample", "--n", "25", "--seed", "7")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert len(lines) == 25
    assert run(capsys, "sample", "--n", "25", "--seed", "7")[1] == out
    assert run(capsys, "sample", "--n", "25", "--seed", "8")[1] != out
    space = SearchSpace.default()
    archs = [Arch.parse(line) for line in lines]
    assert all(space.contains(arch) for arch in archs)
    rng = np.random.default_rng(7)
    assert archs == [space.sample(rng) for _ in range(25)]


def test_sample_with_a_config(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    config = tmp_path / "space.toml"
    config.write_text("resolutions = [32]\nkernels = [5]\nin_channels = 1\nnum_classes = 10\n")
    code, out, _ = run(capsys, "sample", "--n", "5", "--seed", "0", "--config", str(config))
    assert code == 0
    for line in out.splitlines():
        arch = Arch.parse(line)
        assert (arch.resolution, arch.in_channels, arch.num_classes) == (32, 1, 10)
        assert {stage.kernel for stage in arch.stages} == {5}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_show_totals_equal_the_counts(capsys: pytest.CaptureFixture[str], seed: int) -> None:
    arch = SearchSpace.default().sample(np.random.default_rng(seed))
    data = run_json(capsys, "show", arch.to_str(), "--json")
    assert isinstance(data, dict)
    assert data["arch"] == arch.to_str()
    assert data["totals"]["macs"] == count_macs(arch)
    assert data["totals"]["params"] == count_params(arch)
    assert data["totals"]["trainable_params"] == count_trainable_params(arch)
    assert data["totals"]["blocks"] == arch.depth
    assert data["in_space"] is True
    walk = layers(arch)
    assert [row["layer"] for row in data["layers"]] == [layer.name for layer in walk]
    assert sum(row["macs"] for row in data["layers"]) == count_macs(arch)
    assert data["layers"][0]["input_shape"] == [3, arch.resolution, arch.resolution]
    assert data["layers"][-1]["output_shape"] == [1000]
    # The human table carries the same totals.
    code, out, _ = run(capsys, "show", arch.to_str())
    assert code == 0
    assert f"{count_macs(arch):,}" in out and f"{count_params(arch):,}" in out
    assert out.splitlines()[0] == arch.to_str()


def test_show_accepts_a_baseline_name(capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(capsys, "show", "mobilenet_v1_1.0_224", "--json")
    assert isinstance(data, dict)
    assert data["totals"]["macs"] == 568_740_352
    assert data["layers"][1]["output_shape"] == [32, 112, 112]
    assert data["layers"][-2]["output_shape"] == [1024, 7, 7]


def test_show_outside_the_space(capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(capsys, "show", "stem_r33_i1_c8:ds_r1_k5_s2_c16:head_n10", "--json")
    assert isinstance(data, dict)
    assert data["in_space"] is False
    assert data["layers"][0]["output_shape"] == [8, 17, 17]
    assert data["totals"] == {
        "layers": 4,
        "blocks": 1,
        "macs": 47_536,
        "params": 570,
        "trainable_params": 634,
    }


def test_info(capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(capsys, "info", "--json")
    assert isinstance(data, dict)
    assert data["size"] == SearchSpace.default().size() == 5_441_955_840
    assert len(data["baselines"]) == 16
    assert data["choices"]["s1_kernel"] == [3, 5, 7]
    code, out, _ = run(capsys, "info")
    assert code == 0 and "5,441,955,840" in out


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["show", "stem_r224_i3_c32:ds_r1_k3_s1_c64_z5:head_n10"], "unknown token 'z5'"),
        (["show", "stem_r224_i3_c32:head_n10"], "at least one 'ds_…' or 'ir_…' stage"),
        (["show", "stem_r224_i3_c32:ds_r1_k4_s1_c64:head_n10"], "depthwise kernel must be odd"),
        (["show", "mobilenet_v1_x_224"], "unknown baseline name 'mobilenet_v1_x_224'"),
        (["show", ""], "arch string ''"),
        (["sample", "--n", "0"], "--n must be an integer >= 1, got 0"),
        (["sample", "--n", "-3"], "--n must be an integer >= 1, got -3"),
    ],
)
def test_bad_input_is_one_line_without_traceback(
    capsys: pytest.CaptureFixture[str], args: list[str], fragment: str
) -> None:
    code, out, err = run(capsys, *args)
    assert code == 2
    assert out == ""
    assert err.startswith("hwnas: error: ") and err.count("\n") == 1
    assert fragment in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (None, "does not exist"),
        ("kernels = [4]\n", "kernels must be odd"),
        ("colour = 'red'\n", "unknown key 'colour'"),
        ("resolutions = [128\n", "is not valid TOML"),
        ("width_multipliers = [9.0]\n", "width_multipliers value 9.0 is out of bounds"),
    ],
)
@pytest.mark.parametrize("command", ["sample", "info", "show"])
def test_bad_config_is_one_line(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    text: str | None,
    fragment: str,
    command: str,
) -> None:
    config = tmp_path / "space.toml"
    if text is not None:
        config.write_text(text)
    extra = ["mobilenet_v1_1.0_224"] if command == "show" else []
    code, out, err = run(capsys, command, *extra, "--config", str(config))
    assert (code, out) == (2, "")
    assert err.startswith("hwnas: error: ") and err.count("\n") == 1
    assert fragment in err and str(config) in err


def test_installed_command_prints_one_line_and_exits_2() -> None:
    hwnas = Path(sys.executable).with_name("hwnas")
    command = [str(hwnas)] if hwnas.exists() else [sys.executable, "-m", "search.cli"]
    proc = subprocess.run(
        [*command, "space", "show", "stem_r224_i3_c32:ds_r1_k3_z5:head_n10"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.strip().splitlines() == [
        "hwnas: error: unknown token 'z5' in 'stem_r224_i3_c32:ds_r1_k3_z5:head_n10': "
        "expected one of r, k, s, c or an activation (relu, relu6, hswish)"
    ]
