"""Write an export: PyTorch checkpoint, verified ONNX model, arch.json, export.json, model card.

An export directory holds::

    model.onnx     opset 17: ``input`` (N x C x H x W float32, dynamic sizes) -> ``logits``
    model.pt       {"format", "arch", "activation", "state_dict", "metadata"} (torch.load-able with
                   the default weights_only=True)
    arch.json      the architecture (string and fields), MACs, parameters
    export.json    every figure of the model card as data
    MODEL_CARD.md  accuracy, latency predicted and measured, counts, and how to load it

Everything is written into a temporary sibling directory and renamed into place at the end, so a
crash or a failed check leaves nothing half-written, and an existing export is only replaced with
``force``. The ONNX file is checked with the ONNX checker and its onnxruntime outputs must equal
PyTorch's within `ONNX_TOLERANCE` on the given inputs, or the export fails.

The legacy TorchScript exporter (``dynamo=False``) is used: it still exists in torch 2.13, needs no
onnxscript, and gives a plain Conv/BatchNorm-folded graph for these networks.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from latency.bundle_runner import open_session, time_session
from latency.files import write_json_atomic, write_text_atomic
from space import Arch, count_macs, count_params, count_trainable_params

ONNX_TOLERANCE = 1e-4
ONNX_OPSET = 17
MEASURE_SECONDS = 1.0
MAX_MEASURE_RUNS = 2000
EXPORT_FORMAT = "hwnas-export-v1"
MODEL_ONNX = "model.onnx"
MODEL_PT = "model.pt"
ARCH_JSON = "arch.json"
EXPORT_JSON = "export.json"
MODEL_CARD = "MODEL_CARD.md"
EXPORT_FILES = (MODEL_ONNX, MODEL_PT, ARCH_JSON, EXPORT_JSON, MODEL_CARD)


class ExportCheckError(ValueError):
    """The exported ONNX model does not reproduce the PyTorch model."""


@dataclass(frozen=True)
class Timing:
    """A measured latency: median and spread over ``runs`` timed runs after ``warmup`` runs."""

    median_ms: float
    p10_ms: float
    p90_ms: float
    runs: int
    warmup: int
    threads: int
    runtime: str
    batch: int = 1


@dataclass(frozen=True)
class ExportInfo:
    """What the model card says about where the network came from and how good it is.

    ``proxy_accuracy`` is the search's short-schedule accuracy on the validation split;
    ``test_accuracy`` the accuracy on the test split after retraining (None if not retrained).
    """

    source: str
    dataset: str | None = None
    baseline: str | None = None
    trial: int | None = None
    run_dir: str | None = None
    proxy_accuracy: float | None = None
    test_accuracy: float | None = None
    training: dict[str, Any] | None = None
    predicted_ms: float | None = None
    device: str | None = None
    table: dict[str, Any] | None = None
    preprocessing: str | None = None
    inputs: str = "random normal inputs"
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ExportResult:
    """What `export_model` wrote and measured."""

    out_dir: Path
    arch: Arch
    files: tuple[str, ...]
    max_abs_diff: float
    measured: Timing | None
    info: ExportInfo


def holds_export(path: Path) -> bool:
    """Whether a directory already holds (part of) an hwnas export."""
    return path.is_dir() and any((path / name).exists() for name in EXPORT_FILES)


def check_out_dir(out_dir: Path, *, force: bool) -> None:
    """Refuse an output directory we must not write: ``ValueError`` saying why and what to do."""
    if out_dir.exists() and not out_dir.is_dir():
        raise ValueError(f"output {str(out_dir)!r} exists and is not a directory")
    if holds_export(out_dir):
        if not force:
            raise ValueError(
                f"output directory {str(out_dir)!r} already holds an export: "
                "pass --force to replace it, or choose another --out"
            )
        others = sorted(p.name for p in out_dir.iterdir() if p.name not in EXPORT_FILES)
        if others:
            raise ValueError(
                f"output directory {str(out_dir)!r} holds files that are not part of an export "
                f"({', '.join(others[:3])}): not replacing it even with --force"
            )
    elif out_dir.is_dir() and any(out_dir.iterdir()):
        raise ValueError(
            f"output directory {str(out_dir)!r} is not empty: choose a new or empty directory"
        )


def export_model(
    model: Any,
    arch: Arch,
    out_dir: str | Path,
    *,
    info: ExportInfo,
    inputs: Any,
    force: bool = False,
    threads: int = 1,
    measure: bool = True,
    measure_runs: int = 50,
    measure_warmup: int = 10,
    check_inputs: Sequence[Any] = (),
) -> ExportResult:
    """Write ``model`` (a built, trained `space.build_model` network) as an export directory.

    ``inputs`` (a float tensor N x C x H x W) are what ONNX and PyTorch outputs are compared on;
    pass real images. ``check_inputs`` are more batches (of any square size) compared the same way.
    Latency is measured at batch 1 and the arch's resolution with ``threads``
    onnxruntime threads unless ``measure`` is False.
    """
    import torch

    from search.export.card import render_model_card

    out_dir = Path(out_dir)
    check_out_dir(out_dir, force=force)
    if tuple(inputs.shape[1:]) != (arch.in_channels, arch.resolution, arch.resolution):
        raise ValueError(
            f"check inputs have shape {tuple(inputs.shape)}; the network takes "
            f"N x {arch.in_channels} x {arch.resolution} x {arch.resolution}"
        )
    model = model.eval()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out_dir.parent, prefix=f".{out_dir.name}.tmp-"))
    try:
        _export_onnx(model, arch, tmp / MODEL_ONNX)
        max_diff = 0.0
        checked = 0
        for batch in [inputs, *check_inputs]:
            with torch.no_grad():
                expected = model(batch.float()).numpy()
            diff = onnx_max_abs_diff(tmp / MODEL_ONNX, batch.float().numpy(), expected)
            max_diff = max(max_diff, diff)
            checked += len(batch)
        if not max_diff <= ONNX_TOLERANCE:
            raise ExportCheckError(
                f"onnxruntime output differs from PyTorch's by {max_diff:.3g} "
                f"(tolerance {ONNX_TOLERANCE:g}) for {arch.to_str()!r}: not exported"
            )
        measured = (
            measure_onnx(
                tmp / MODEL_ONNX, arch, threads=threads, runs=measure_runs, warmup=measure_warmup
            )
            if measure
            else None
        )
        figures = _figures(arch, info, max_diff, checked, measured)
        checkpoint = {
            "format": EXPORT_FORMAT,
            "arch": arch.to_str(),
            "activation": ", ".join(arch.activations),
            "state_dict": {k: v.detach().clone() for k, v in model.state_dict().items()},
            "metadata": figures,
        }
        torch.save(checkpoint, tmp / MODEL_PT)
        write_json_atomic(tmp / ARCH_JSON, arch_document(arch, info.baseline))
        write_json_atomic(tmp / EXPORT_JSON, figures)
        write_text_atomic(tmp / MODEL_CARD, render_model_card(arch, info, figures))
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o777 & ~umask)
        _swap_into_place(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return ExportResult(
        out_dir=out_dir,
        arch=arch,
        files=EXPORT_FILES,
        max_abs_diff=max_diff,
        measured=measured,
        info=info,
    )


def _swap_into_place(tmp: Path, out_dir: Path) -> None:
    """Rename the finished ``tmp`` to ``out_dir``, replacing an old export only at the very end."""
    if not out_dir.exists():
        os.rename(tmp, out_dir)
        return
    if not any(out_dir.iterdir()):
        out_dir.rmdir()
        os.rename(tmp, out_dir)
        return
    old = Path(tempfile.mkdtemp(dir=out_dir.parent, prefix=f".{out_dir.name}.old-"))
    old.rmdir()
    os.rename(out_dir, old)
    try:
        os.rename(tmp, out_dir)
    except BaseException:
        os.rename(old, out_dir)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _export_onnx(model: Any, arch: Arch, path: Path) -> None:
    import torch

    example = torch.zeros(1, arch.in_channels, arch.resolution, arch.resolution)
    with warnings.catch_warnings():
        # The legacy exporter warns that it is deprecated; it is chosen on purpose (module doc).
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model,
            (example,),
            str(path),
            dynamo=False,
            input_names=["input"],
            output_names=["logits"],
            opset_version=ONNX_OPSET,
            dynamic_axes={
                "input": {0: "batch", 2: "height", 3: "width"},
                "logits": {0: "batch"},
            },
            do_constant_folding=True,
        )
    import onnx

    onnx.checker.check_model(str(path), full_check=True)


def onnx_max_abs_diff(path: Path, inputs: Any, expected: Any) -> float:
    """Largest absolute difference between onnxruntime's outputs and ``expected``."""
    import numpy as np

    session = open_session(path, threads=1)
    (got,) = session.run(["logits"], {"input": np.ascontiguousarray(inputs, dtype=np.float32)})
    if got.shape != expected.shape:
        raise ExportCheckError(
            f"onnxruntime output shape {got.shape} differs from PyTorch's {expected.shape}"
        )
    return float(np.max(np.abs(got - expected)))


def measure_onnx(
    path: Path, arch: Arch, *, threads: int = 1, runs: int = 50, warmup: int = 10
) -> Timing:
    """Latency of one batch-1 inference of the exported file on this machine.

    Timed with the latency tables' protocol (`latency.bundle_runner.time_session`): at least
    ``runs`` runs and at least `MEASURE_SECONDS` of them (at most `MAX_MEASURE_RUNS`), so that
    sub-millisecond networks are timed over enough calls for a stable median.
    """
    import onnxruntime as ort

    if runs < 1 or warmup < 0:
        raise ValueError(f"need runs >= 1 and warmup >= 0, got runs={runs}, warmup={warmup}")
    timed = time_session(
        open_session(path, threads),
        (1, arch.in_channels, arch.resolution, arch.resolution),
        warmup=warmup,
        min_runs=runs,
        max_runs=max(runs, MAX_MEASURE_RUNS),
        budget_s=MEASURE_SECONDS,
    )
    return Timing(
        median_ms=timed["median_ms"],
        p10_ms=timed["p10_ms"],
        p90_ms=timed["p90_ms"],
        runs=timed["runs"],
        warmup=warmup,
        threads=threads,
        runtime=f"onnxruntime {ort.__version__} CPUExecutionProvider",
    )


def arch_document(arch: Arch, baseline: str | None = None) -> dict[str, Any]:
    """arch.json: the string form, its fields, and its counts."""
    return {
        "arch": arch.to_str(),
        "baseline": baseline,
        "resolution": arch.resolution,
        "in_channels": arch.in_channels,
        "num_classes": arch.num_classes,
        "stem_width": arch.stem_width,
        "stages": [asdict(stage) for stage in arch.stages],
        "macs": count_macs(arch),
        "params": count_params(arch),
        "trainable_params": count_trainable_params(arch),
    }


def _figures(
    arch: Arch, info: ExportInfo, max_diff: float, checked: int, measured: Timing | None
) -> dict[str, Any]:
    return {
        "arch": arch.to_str(),
        "source": info.source,
        "run_dir": info.run_dir,
        "trial": info.trial,
        "baseline": info.baseline,
        "dataset": info.dataset,
        "proxy_accuracy": info.proxy_accuracy,
        "test_accuracy": info.test_accuracy,
        "training": info.training,
        "predicted_ms": info.predicted_ms,
        "device": info.device,
        "table": info.table,
        "measured": asdict(measured) if measured else None,
        "macs": count_macs(arch),
        "params": count_params(arch),
        "trainable_params": count_trainable_params(arch),
        "activation": ", ".join(arch.activations),
        "preprocessing": info.preprocessing,
        "onnx": {
            "opset": ONNX_OPSET,
            "max_abs_diff": max_diff,
            "tolerance": ONNX_TOLERANCE,
            "checked_on": f"{checked} {info.inputs}",
        },
        "exported": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        **info.extra,
    }
