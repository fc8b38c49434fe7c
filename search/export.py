"""Export a chosen network: PyTorch checkpoint, verified ONNX model, arch.json and a model card.

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

import contextlib
import json
import os
import shutil
import tempfile
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

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
    activation: str = "relu"
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
            "activation": info.activation,
            "state_dict": {k: v.detach().clone() for k, v in model.state_dict().items()},
            "metadata": figures,
        }
        torch.save(checkpoint, tmp / MODEL_PT)
        _write_json(tmp / ARCH_JSON, arch_document(arch, info.baseline))
        _write_json(tmp / EXPORT_JSON, figures)
        (tmp / MODEL_CARD).write_text(render_model_card(arch, info, figures))
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


def _session(path: Path, threads: int) -> Any:
    """An onnxruntime session with the latency tables' settings (`latency.bundle_runner`)."""
    from latency.bundle_runner import open_session

    return open_session(path, threads)


def onnx_max_abs_diff(path: Path, inputs: Any, expected: Any) -> float:
    """Largest absolute difference between onnxruntime's outputs and ``expected``."""
    import numpy as np

    session = _session(path, threads=1)
    (got,) = session.run(["logits"], {"input": np.ascontiguousarray(inputs, dtype=np.float32)})
    if got.shape != expected.shape:
        raise ExportCheckError(
            f"onnxruntime output shape {got.shape} differs from PyTorch's {expected.shape}"
        )
    return float(np.max(np.abs(got - expected)))


def measure_onnx(
    path: Path, arch: Arch, *, threads: int = 1, runs: int = 50, warmup: int = 10
) -> Timing:
    """Latency of one batch-1 inference with onnxruntime on this machine (median of ``runs``)."""
    import numpy as np
    import onnxruntime as ort

    if runs < 1 or warmup < 0:
        raise ValueError(f"need runs >= 1 and warmup >= 0, got runs={runs}, warmup={warmup}")
    session = _session(path, threads)
    # As `latency.bundle_runner.time_session` does (it binds its own graphs' input names): one
    # random input bound once, so that the timed call does no Python-side copies.
    data = np.random.default_rng(0).uniform(-1.0, 1.0, size=(1, *_input_shape(arch)))
    binding = session.io_binding()
    binding.bind_ortvalue_input("input", ort.OrtValue.ortvalue_from_numpy(data.astype(np.float32)))
    binding.bind_output("logits", "cpu")
    for _ in range(warmup):
        session.run_with_iobinding(binding)
    # At least ``runs`` runs and at least a second of them, so that sub-millisecond networks
    # are timed over enough calls for a stable median.
    times: list[float] = []
    budget = time.perf_counter() + MEASURE_SECONDS
    while len(times) < runs or (time.perf_counter() < budget and len(times) < MAX_MEASURE_RUNS):
        start = time.perf_counter()
        session.run_with_iobinding(binding)
        times.append((time.perf_counter() - start) * 1e3)
    p10, median, p90 = (float(v) for v in np.percentile(times, [10, 50, 90]))
    return Timing(
        median_ms=median,
        p10_ms=p10,
        p90_ms=p90,
        runs=len(times),
        warmup=warmup,
        threads=threads,
        runtime=f"onnxruntime {ort.__version__} CPUExecutionProvider",
    )


def _input_shape(arch: Arch) -> tuple[int, int, int]:
    return (arch.in_channels, arch.resolution, arch.resolution)


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
        "activation": info.activation,
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


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=1, sort_keys=False) + "\n")


def _pct(value: float | None) -> str:
    return f"{100 * value:.2f} %" if value is not None else "–"


def loading_snippets(arch: Arch, activation: str = "relu") -> tuple[str, str]:
    """Two Python snippets (PyTorch with hwnas, onnxruntime) that load an export from its dir."""
    shape = f"1, {arch.in_channels}, {arch.resolution}, {arch.resolution}"
    act = "" if activation == "relu" else f', activation="{activation}"'
    torch_code = (
        "import torch\n"
        "from space import Arch, build_model\n"
        "\n"
        'checkpoint = torch.load("model.pt")  # weights_only loading is enough\n'
        f'model = build_model(Arch.parse(checkpoint["arch"]){act})\n'
        'model.load_state_dict(checkpoint["state_dict"])\n'
        "model.eval()\n"
        "with torch.no_grad():\n"
        f"    logits = model(torch.zeros({shape}))  # N x C x H x W, float32\n"
    )
    onnx_code = (
        "import numpy as np\n"
        "import onnxruntime as ort\n"
        "\n"
        'session = ort.InferenceSession("model.onnx", providers=["CPUExecutionProvider"])\n'
        f'logits = session.run(["logits"], {{"input": np.zeros(({shape}), np.float32)}})[0]\n'
    )
    return torch_code, onnx_code


def render_model_card(arch: Arch, info: ExportInfo, figures: dict[str, Any]) -> str:
    """MODEL_CARD.md for an export."""
    measured = figures.get("measured")
    name = info.baseline or (f"trial {info.trial}" if info.trial is not None else "network")
    out = [f"# Model card: {name}", "", f"`{arch.to_str()}`", ""]
    out += [f"Source: {info.source}.", ""]
    out += ["| figure | value |", "|---|---|"]
    training = info.training or {}
    if info.test_accuracy is not None:
        out.append(
            f"| test accuracy ({info.dataset}, after retraining) | {_pct(info.test_accuracy)} |"
        )
    else:
        out.append("| test accuracy | not measured (exported without retraining) |")
    if info.proxy_accuracy is not None:
        out.append(
            f"| proxy accuracy (search's short schedule, validation split) | "
            f"{_pct(info.proxy_accuracy)} |"
        )
    if info.predicted_ms is not None:
        out.append(
            f"| latency predicted on {info.device or 'the table device'} (lookup table, batch 1) "
            f"| {info.predicted_ms:.3f} ms |"
        )
    if measured:
        out.append(
            f"| latency measured on this machine ({measured['runtime']}, "
            f"{measured['threads']} thread{'s' if measured['threads'] != 1 else ''}, batch 1) | "
            f"{measured['median_ms']:.3f} ms median (p10 {measured['p10_ms']:.3f}, p90 "
            f"{measured['p90_ms']:.3f}; {measured['runs']} runs after "
            f"{measured['warmup']} warm-up) |"
        )
    out += [
        f"| multiply-adds | {figures['macs'] / 1e6:.2f} M |",
        f"| parameters (conv + classifier) | {figures['params'] / 1e6:.3f} M |",
        f"| parameters incl. BatchNorm | {figures['trainable_params'] / 1e6:.3f} M |",
        f"| input | {arch.in_channels} x {arch.resolution} x {arch.resolution} float32 (NCHW) |",
        f"| classes | {arch.num_classes} |",
        f"| ONNX vs PyTorch max abs difference | {figures['onnx']['max_abs_diff']:.2e} on "
        f"{figures['onnx']['checked_on']} (tolerance {ONNX_TOLERANCE:g}) |",
        "",
    ]
    if training:
        out += ["## Training", ""]
        out += [f"- {key}: {_plain(value)}" for key, value in training.items()]
        out.append("")
    elif info.test_accuracy is None:
        out += [
            "## Training",
            "",
            "Not retrained: the weights are "
            + (
                "the search's proxy-trained ones."
                if info.extra.get("weights") == "proxy"
                else "freshly initialised (pass --epochs E to train)."
            ),
            "",
        ]
    if info.preprocessing:
        out += ["## Inputs", "", info.preprocessing, ""]
    if info.table:
        out += ["## Latency table", ""]
        out += [f"- {key}: {_plain(value)}" for key, value in info.table.items()]
        out.append("")
    torch_code, onnx_code = loading_snippets(arch, info.activation)
    out += [
        "## How to load it",
        "",
        "With hwnas only (`pip install` this repository), from this directory:",
        "",
        "```python",
        torch_code.rstrip(),
        "```",
        "",
        "Or with onnxruntime alone:",
        "",
        "```python",
        onnx_code.rstrip(),
        "```",
        "",
        f"Files: {', '.join(f'`{name}`' for name in EXPORT_FILES)}.",
        "",
    ]
    return "\n".join(out)


def _plain(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, dict):
        # Summarise bulky members (per-shape timings, space definitions): the card stays short.
        return ", ".join(
            f"{k}: {_plain(v)}" if len(json.dumps(v)) <= 120 else f"{k}: (in export.json)"
            for k, v in value.items()
        )
    if isinstance(value, list):
        return json.dumps(value, sort_keys=True)
    return str(value)


@contextlib.contextmanager
def torch_threads(threads: int) -> Any:
    """Run a block with ``threads`` intra-op torch threads, restoring the old setting after."""
    import torch

    old = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(old)


# -- choosing and preparing the network -----------------------------------------------------------


def resolve_arch(text: str, *, in_channels: int, num_classes: int) -> tuple[Arch, str | None]:
    """An arch string or a baseline name (``mobilenet_v1_0.5_160``), with that name if any."""
    from space import baseline_from_name

    baseline = baseline_from_name(text, in_channels=in_channels, num_classes=num_classes)
    if baseline is not None:
        return baseline, text.strip()
    return Arch.parse(text), None


@dataclass
class Prepared:
    """A built (and maybe retrained) network with the inputs to check its ONNX export on."""

    model: Any
    inputs: Any
    inputs_note: str
    test_accuracy: float | None = None
    training: dict[str, Any] | None = None
    preprocessing: str | None = None
    check_inputs: list[Any] = field(default_factory=list)


def prepare_model(
    arch: Arch,
    *,
    dataset: Any | None,
    schedule: Any | None,
    epochs: float | None,
    threads: int,
    seed: int = 0,
    check_images: int = 8,
) -> Prepared:
    """Build ``arch``; with ``epochs`` retrain it on the full training split and test it.

    ``dataset`` is a `search.data.Dataset` (None: check the export on random inputs, no
    training); ``schedule`` the `search.proxy.ProxySchedule` whose other settings the longer
    schedule keeps. The check inputs are the first training images, resized to the arch's
    resolution and normalised as in training.
    """
    import numpy as np
    import torch

    from search.proxy import ProxySchedule, proxy_resolution, train_model
    from space.model import build_model

    schedule = schedule if schedule is not None else ProxySchedule()
    if dataset is not None and (dataset.in_channels, dataset.num_classes) != (
        arch.in_channels,
        arch.num_classes,
    ):
        if epochs:
            raise ValueError(
                f"arch {arch.to_str()!r} takes {arch.in_channels} channel(s) and "
                f"{arch.num_classes} classes but data set {dataset.name!r} has "
                f"{dataset.in_channels} and {dataset.num_classes}: cannot train it on that data"
            )
        dataset = None
    torch.manual_seed(schedule.seed if schedule is not None else seed)
    model = build_model(arch)
    result: Prepared
    if dataset is None:
        generator = torch.Generator().manual_seed(seed)
        size = (check_images, arch.in_channels, arch.resolution, arch.resolution)
        inputs = torch.randn(size, generator=generator)
        return Prepared(model=model.eval(), inputs=inputs, inputs_note="random normal inputs")
    resolution = proxy_resolution(arch.resolution, dataset.image_size)
    test_accuracy = None
    training = None
    if epochs:
        longer = replace(schedule, epochs=float(epochs))
        with torch_threads(threads):
            outcome = train_model(model, dataset, longer, threads=threads, eval_split="test")
        test_accuracy = outcome.accuracy
        training = {
            "data set": dataset.describe(),
            "split": f"full training split ({outcome.train_images} images); "
            f"accuracy on the test split ({outcome.eval_images} images), used here for the "
            "first time",
            "epochs": longer.epochs,
            "steps": outcome.steps,
            "batch size": longer.batch_size,
            "peak lr": longer.lr,
            "schedule": "SGD Nesterov, linear warm-up, cosine decay, label smoothing "
            f"{longer.label_smoothing:g}, weight decay {longer.weight_decay:g}, "
            f"{'horizontal flips' if longer.hflip else 'no flips'}, seed {longer.seed}",
            "training resolution": f"{outcome.proxy_resolution} px (proxy resolution of "
            f"{arch.resolution})",
            "train seconds": round(outcome.train_seconds, 1),
            "threads": outcome.threads,
            "final loss": round(outcome.final_loss, 4),
        }
    model = model.to(memory_format=torch.contiguous_format).eval()  # type: ignore[call-overload]
    # Normalisation as the proxy does it: per-channel statistics of the whole training split.
    pixels = dataset.train_images.transpose(1, 0, 2, 3).reshape(dataset.in_channels, -1)
    mean = pixels.mean(axis=1, dtype=np.float64) / 255.0
    std = np.maximum(pixels.std(axis=1, dtype=np.float64) / 255.0, 1e-3)
    raw = torch.from_numpy(np.ascontiguousarray(dataset.train_images[:check_images])).float()
    mean_t = torch.tensor(mean, dtype=torch.float32).view(1, -1, 1, 1)
    std_t = torch.tensor(std, dtype=torch.float32).view(1, -1, 1, 1)

    def at(side: int) -> Any:
        images = raw / 255.0
        if images.shape[-1] != side:
            images = torch.nn.functional.interpolate(
                images, size=(side, side), mode="bilinear", antialias=True
            )
        return ((images - mean_t) / std_t).contiguous()

    channels = ", ".join(f"{m:.4f}" for m in mean)
    spreads = ", ".join(f"{s:.4f}" for s in std)
    trained = (
        f"the weights were trained and tested at {resolution} x {resolution}"
        if training
        else f"the proxy trains this network at {resolution} x {resolution}"
    )
    preprocessing = (
        f"Images as {dataset.in_channels} x H x W float32: pixel / 255, minus mean ({channels}), "
        f"divided by std ({spreads}) per channel. The network accepts any H = W; latency refers "
        f"to {arch.resolution} x {arch.resolution} (the architecture's resolution), while "
        f"{trained} (antialiased bilinear resize of the {dataset.image_size}-pixel images)"
        + (": feed that size to reproduce the accuracy." if training else ".")
    )
    result = Prepared(
        model=model,
        inputs=at(arch.resolution),
        inputs_note=f"real {dataset.name} training images",
        test_accuracy=test_accuracy,
        training=training,
        preprocessing=preprocessing,
        check_inputs=[at(resolution)] if resolution != arch.resolution else [],
    )
    return result


def _schedule_from(fields: Any) -> Any:
    """A `ProxySchedule` from a run's recorded schedule fields (unknown keys dropped)."""
    from dataclasses import fields as dataclass_fields

    from search.proxy import ProxySchedule

    if not isinstance(fields, dict) or "fake_seconds" in fields:
        return ProxySchedule()
    known = {f.name for f in dataclass_fields(ProxySchedule)}
    return ProxySchedule(**{k: v for k, v in fields.items() if k in known})


def _load_data(name: str, data_dir: str | None, *, needed: bool, seed: int) -> Any | None:
    """The data set; if it is missing and only wanted for check inputs, None."""
    from search.data import load_dataset

    try:
        return load_dataset(name, data_dir, seed=seed)
    except ValueError:
        if needed:
            raise
        return None


def export_trial(
    run_dir: str | Path,
    out_dir: str | Path,
    *,
    trial: int | None = None,
    best_under: float | None = None,
    epochs: float | None = None,
    force: bool = False,
    threads: int = 1,
    measure_threads: int = 1,
    measure: bool = True,
    data_dir: str | None = None,
) -> ExportResult:
    """Export a trial of a run: by number, or the most accurate under a bound (default: target)."""
    from search.pareto import Run, choose

    run = Run.load(run_dir)
    record = choose(run.records, trial=trial, best_under=best_under, target_ms=run.target_ms)
    check_out_dir(Path(out_dir), force=force)
    arch = Arch.parse(record.arch)
    settings = run.settings
    dataset_info = run.info.get("dataset")
    name = settings.get("dataset") or (
        dataset_info.get("name") if isinstance(dataset_info, dict) else None
    )
    schedule_fields = run.info.get("proxy_schedule") or (settings.get("config") or {}).get("proxy")
    if isinstance(schedule_fields, dict) and "fake_seconds" in schedule_fields and epochs:
        raise ValueError(
            f"run {str(run.path)!r} used fake training (no data set): cannot retrain its networks"
        )
    seed = int(settings.get("seed") or 0)
    dataset = (
        _load_data(str(name), data_dir or settings.get("data_dir"), needed=bool(epochs), seed=seed)
        if name
        else None
    )
    prepared = prepare_model(
        arch,
        dataset=dataset,
        schedule=_schedule_from(schedule_fields),
        epochs=epochs,
        threads=threads,
        seed=seed,
    )
    table = run.table_info
    info = ExportInfo(
        source=f"trial {record.number} of run `{run.path}`",
        dataset=str(name) if name else None,
        baseline=record.baseline,
        trial=record.number,
        run_dir=str(run.path),
        proxy_accuracy=record.accuracy,
        test_accuracy=prepared.test_accuracy,
        training=prepared.training,
        predicted_ms=record.latency_ms,
        device=run.device_name,
        table={
            k: table[k]
            for k in ("path", "device_name", "provenance", "protocol")
            if table.get(k) is not None
        },
        preprocessing=prepared.preprocessing,
        inputs=prepared.inputs_note,
    )
    return export_model(
        prepared.model,
        arch,
        out_dir,
        info=info,
        inputs=prepared.inputs,
        check_inputs=prepared.check_inputs,
        force=force,
        threads=measure_threads,
        measure=measure,
    )


def export_arch(
    text: str,
    out_dir: str | Path,
    *,
    dataset: str = "fashion-mnist",
    data_dir: str | None = None,
    table: Any | Callable[[Arch], Any] | None = None,
    epochs: float | None = None,
    force: bool = False,
    threads: int = 1,
    measure_threads: int = 1,
    measure: bool = True,
    seed: int = 0,
) -> ExportResult:
    """Export an arch string or MobileNetV1 baseline name without a run.

    A baseline name is built for ``dataset``'s channels and classes; ``table`` (a latency table,
    or a function giving the table for the resolved arch, or None) gives the predicted latency.
    """
    check_out_dir(Path(out_dir), force=force)
    from space import baseline_from_name

    # A baseline name is built for the data set's task, so the data must be there to read it.
    is_baseline = baseline_from_name(text) is not None
    data = _load_data(dataset, data_dir, needed=bool(epochs) or is_baseline, seed=seed)
    in_channels = data.in_channels if data is not None else 3
    num_classes = data.num_classes if data is not None else 1000
    arch, baseline = resolve_arch(text, in_channels=in_channels, num_classes=num_classes)
    prepared = prepare_model(
        arch, dataset=data, schedule=None, epochs=epochs, threads=threads, seed=seed
    )
    predicted = None
    table_info: dict[str, Any] | None = None
    device = None
    extra: dict[str, Any] = {}
    resolved: Any = table(arch) if callable(table) and not hasattr(table, "predict") else table
    if resolved is not None:
        device = str(getattr(resolved, "device_name", None) or "the table's device")
        try:
            predicted = float(resolved.predict(arch))
        except ValueError as err:
            extra["prediction_error"] = str(err)
        table_info = {
            "device": getattr(resolved, "device", None),
            "provenance": getattr(resolved, "provenance", None),
            "protocol": getattr(resolved, "protocol", None),
        }
    info = ExportInfo(
        source=f"`hwnas export --arch {text}`",
        dataset=dataset if data is not None else None,
        baseline=baseline,
        test_accuracy=prepared.test_accuracy,
        training=prepared.training,
        predicted_ms=predicted,
        device=device,
        table={k: v for k, v in (table_info or {}).items() if v is not None} or None,
        preprocessing=prepared.preprocessing,
        inputs=prepared.inputs_note,
        extra=extra,
    )
    return export_model(
        prepared.model,
        arch,
        out_dir,
        info=info,
        inputs=prepared.inputs,
        check_inputs=prepared.check_inputs,
        force=force,
        threads=measure_threads,
        measure=measure,
    )


def local_table_for(arch: Arch, *, threads: int = 1) -> Any:
    """This machine's latency table, with any layer of ``arch`` it lacks measured and added.

    Measuring takes about a second per missing layer signature (run it under the CPU lock).
    """
    from latency.bundle_runner import describe_device
    from latency.devices import local_device_name, local_table_path
    from latency.profile import build_table
    from latency.signature import arch_signatures
    from latency.table import LatencyTable

    path = local_table_path(threads)
    signatures = arch_signatures(arch)
    if path.exists():
        table = LatencyTable.load(path)
        if not table.missing(signatures):
            return table
    return build_table(
        signatures,
        path,
        threads=threads,
        device=describe_device(threads, name=local_device_name(threads)),
        provenance={"source": "hwnas latency build (automatic, first use)"},
    )
