"""MODEL_CARD.md of an export: what the network is, how good and how fast, and how to load it."""

from __future__ import annotations

from typing import Any

from search.export.writer import EXPORT_FILES, ONNX_TOLERANCE, ExportInfo
from search.formatting import plain
from space import Arch


def _pct(value: float | None) -> str:
    return f"{100 * value:.2f} %" if value is not None else "–"


def loading_snippets(arch: Arch) -> tuple[str, str]:
    """Two Python snippets (PyTorch with hwnas, onnxruntime) that load an export from its dir."""
    shape = f"1, {arch.in_channels}, {arch.resolution}, {arch.resolution}"
    torch_code = (
        "import torch\n"
        "from space import Arch, build_model\n"
        "\n"
        'checkpoint = torch.load("model.pt")  # weights_only loading is enough\n'
        'model = build_model(Arch.parse(checkpoint["arch"]))\n'
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


# Over 80 lines on purpose: the card's Markdown template, section after section.
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
    torch_code, onnx_code = loading_snippets(arch)
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
    """A card value: a dict as ``key: value`` pairs (bulky members summarised), else `plain`."""
    if isinstance(value, dict):
        return ", ".join(f"{k}: {plain(v, max_json=120)}" for k, v in value.items())
    return plain(value)
