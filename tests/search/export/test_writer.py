"""``hwnas export``: files, ONNX equal to PyTorch, the model card's snippets, bad input."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch

import search.export.writer as export_module
from search.cli import main
from search.export.api import export_trial
from search.export.writer import EXPORT_FILES, ExportCheckError, ExportInfo, export_model
from search.run.records import TrialRecord
from space import Arch, build_model, count_macs, count_params, mobilenet_v1
from tests.search.run_fixture import make_run, make_table

pytestmark = pytest.mark.onnx

# The synthetic data set: 1 channel, 4 classes, 16-pixel images.
TINY4 = Arch.parse("stem_r32_i1_c8:ds_r1_k3_s1_c16:ds_r1_k3_s2_c24:head_n4")
SMALL4 = Arch.parse("stem_r32_i1_c8:ds_r1_k5_s1_c16:ds_r2_k3_s2_c32:head_n4")
SCHEDULE = {"epochs": 1.0, "train_subset": 512, "batch_size": 64, "lr": 0.1, "seed": 0}


@pytest.fixture(autouse=True)
def _quick_timing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(export_module, "MEASURE_SECONDS", 0.05)


def _synthetic_run(run_dir: Path) -> Path:
    records = [
        TrialRecord(
            0,
            TINY4.to_str(),
            "complete",
            1.25,
            count_macs(TINY4),
            count_params(TINY4),
            accuracy=0.6,
        ),
        TrialRecord(
            1,
            SMALL4.to_str(),
            "complete",
            2.5,
            count_macs(SMALL4),
            count_params(SMALL4),
            accuracy=0.7,
        ),
        TrialRecord(
            2,
            SMALL4.to_str(),
            "infeasible",
            9.0,
            count_macs(SMALL4),
            count_params(SMALL4),
            reason="over target",
        ),
    ]
    make_run(run_dir, records)
    info = json.loads((run_dir / "run.json").read_text())
    info["proxy_schedule"] = SCHEDULE
    (run_dir / "run.json").write_text(json.dumps(info))
    return run_dir


def _python_blocks(card: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", card, flags=re.S)


def test_export_trial_retrained(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run = _synthetic_run(tmp_path / "run")
    out = tmp_path / "export"
    result = export_trial(run, out, best_under=2.0, epochs=2, threads=1)
    assert result.arch == TINY4
    assert sorted(p.name for p in out.iterdir()) == sorted(EXPORT_FILES)
    onnx.checker.check_model(str(out / "model.onnx"), full_check=True)
    assert 0.0 <= result.max_abs_diff < 1e-4
    figures = json.loads((out / "export.json").read_text())
    assert figures["onnx"]["max_abs_diff"] == result.max_abs_diff
    assert figures["onnx"]["checked_on"] == "16 real synthetic training images"
    test_accuracy = figures["test_accuracy"]
    assert test_accuracy is not None and 0.0 <= test_accuracy <= 1.0
    assert figures["proxy_accuracy"] == 0.6 and figures["predicted_ms"] == 1.25
    assert figures["training"]["epochs"] == 2.0
    assert figures["measured"]["threads"] == 1 and figures["measured"]["median_ms"] > 0
    assert json.loads((out / "arch.json").read_text())["arch"] == TINY4.to_str()
    card = (out / "MODEL_CARD.md").read_text()
    assert f"| test accuracy (synthetic, after retraining) | {100 * test_accuracy:.2f} % |" in card
    assert "| proxy accuracy (search's short schedule, validation split) | 60.00 % |" in card
    assert "| latency predicted on synthetic (lookup table, batch 1) | 1.250 ms |" in card
    assert "latency measured on this machine (onnxruntime" in card and "1 thread, batch 1" in card

    # The checkpoint loads with torch's default (weights_only) loader and matches the ONNX file.
    checkpoint = torch.load(out / "model.pt")
    assert checkpoint["arch"] == TINY4.to_str()
    model = build_model(Arch.parse(checkpoint["arch"]))
    model.load_state_dict(checkpoint["state_dict"])
    model.eval()
    images = torch.rand(3, 1, 32, 32)
    with torch.no_grad():
        expected = model(images).numpy()
    diff = export_module.onnx_max_abs_diff(out / "model.onnx", images.numpy(), expected)
    assert diff < 1e-4
    assert np.abs(expected).max() > 1e-3  # trained weights, so the comparison means something

    # The card's two snippets run as written, from the export directory, and agree.
    monkeypatch.chdir(out)
    outputs = []
    for block in _python_blocks(card):
        namespace: dict[str, object] = {}
        exec(block, namespace)
        outputs.append(np.asarray(namespace["logits"]))
    assert len(outputs) == 2
    assert outputs[0].shape == outputs[1].shape == (1, 4)
    assert np.abs(outputs[0] - outputs[1]).max() < 1e-4


def test_export_arch_baseline_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    arch = mobilenet_v1(0.25, 128, num_classes=4, in_channels=1)
    table_path = tmp_path / "table.json"
    make_table([arch]).save(table_path)
    out = tmp_path / "mbv1"
    argv = ["export", "--arch", "mobilenet_v1_0.25_128", "--dataset", "synthetic"]
    assert main([*argv, "--table", str(table_path), "--out", str(out)]) == 0
    stdout = capsys.readouterr().out
    assert f"exported {arch.to_str()} to {out}" in stdout
    predicted = make_table([arch]).predict(arch)
    assert f"predicted latency: {predicted:.3f} ms on synthetic" in stdout
    assert "test accuracy: not measured (no --epochs)" in stdout
    figures = json.loads((out / "export.json").read_text())
    assert figures["baseline"] == "mobilenet_v1_0.25_128"
    assert figures["macs"] == count_macs(arch) and figures["params"] == count_params(arch)
    card = (out / "MODEL_CARD.md").read_text()
    assert card.startswith("# Model card: mobilenet_v1_0.25_128")
    assert "freshly initialised" in card


def test_refuses_existing_export_without_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = _synthetic_run(tmp_path / "run")
    out = tmp_path / "export"
    assert main(["export", str(run), "--trial", "0", "--out", str(out)]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    capsys.readouterr()
    assert main(["export", str(run), "--trial", "1", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "already holds an export: pass --force" in err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert main(["export", str(run), "--trial", "1", "--out", str(out), "--force"]) == 0
    assert json.loads((out / "arch.json").read_text())["arch"] == SMALL4.to_str()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--trial", "7"], "no trial 7 in this run: recorded trials are 0-2"),
        (["--trial", "2"], "trial 2 is infeasible (over target)"),
        (["--best-under", "1.0"], "the fastest is trial 0 at 1.250 ms"),
        (["--trial", "0", "--epochs", "0"], "--epochs must be a positive number"),
        (["--trial", "0", "--table", "t.json"], "--device/--table go with --arch"),
    ],
)
def test_bad_choice_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    run = _synthetic_run(tmp_path / "run")
    out = tmp_path / "export"
    assert main(["export", str(run), *args, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("hwnas: error: ") and err.count("\n") == 1
    assert message in err
    assert not out.exists()


def test_cli_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", str(tmp_path), "--out", str(tmp_path / "o")]) == 2
    assert "is not an hwnas run directory" in capsys.readouterr().err
    assert main(["export", "--arch", "mobilenet_v1_0.25_128"]) == 2
    assert "--out DIR is required" in capsys.readouterr().err
    assert main(["export", "--out", str(tmp_path / "o")]) == 2
    assert "give a RUN_DIR" in capsys.readouterr().err
    assert main(["export", "--arch", "mobilenet_v9_1_2", "--out", str(tmp_path / "o")]) == 2
    assert "unknown baseline name 'mobilenet_v9_1_2'" in capsys.readouterr().err
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "notes.txt").write_text("mine")
    argv = ["export", "--arch", TINY4.to_str(), "--dataset", "synthetic"]
    assert main([*argv, "--out", str(tmp_path / "full"), "--force"]) == 2
    assert "is not empty: choose a new or empty directory" in capsys.readouterr().err
    assert (tmp_path / "full" / "notes.txt").read_text() == "mine"


def test_failed_check_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(export_module, "onnx_max_abs_diff", lambda *args: 0.5)
    out = tmp_path / "export"
    model = build_model(TINY4)
    with pytest.raises(ExportCheckError, match=r"differs from PyTorch.s by 0\.5"):
        export_model(
            model, TINY4, out, info=ExportInfo(source="test"), inputs=torch.rand(2, 1, 32, 32)
        )
    assert list(tmp_path.iterdir()) == []


def test_wrong_input_shape_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"the network takes N x 1 x 32 x 32"):
        export_model(
            build_model(TINY4),
            TINY4,
            tmp_path / "x",
            info=ExportInfo(source="t"),
            inputs=torch.rand(2, 3, 32, 32),
        )


def test_export_arch_prices_on_this_machine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from latency.devices import local_device_name, local_table_path
    from latency.table import LatencyTable

    monkeypatch.setenv("HWNAS_HOME", str(tmp_path / "home"))
    out = tmp_path / "tiny"
    argv = ["export", "--arch", TINY4.to_str(), "--dataset", "synthetic", "--out", str(out)]
    assert main(argv) == 0
    table = LatencyTable.load(local_table_path(1))  # measured the tiny arch's layers only
    predicted = table.predict(TINY4)
    assert f"predicted latency: {predicted:.3f} ms on {local_device_name(1)}" in (
        capsys.readouterr().out
    )
    assert json.loads((out / "export.json").read_text())["predicted_ms"] == predicted
