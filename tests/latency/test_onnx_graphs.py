"""ONNX graphs of signatures: they run, and a network's graph has the operators `hwnas export`
writes for the same network (so the table times what a user deploys)."""

from __future__ import annotations

import io
import warnings
from typing import Any

import numpy as np
import pytest

from latency.onnx_graphs import input_shape, layer_model, network_model, output_shape
from latency.signature import Signature, arch_signatures
from space import Arch, SearchSpace, build_model, parse_arch_or_baseline

pytestmark = pytest.mark.onnx

# Operators the PyTorch exporter adds that onnxruntime folds away before running, and attributes
# it writes at their ONNX default values.
FOLDED = ("Constant", "Identity")
DEFAULTS = {
    ("Conv", "dilations"): (1, 1),
    ("Gemm", "alpha"): 1.0,
    ("Gemm", "beta"): 1.0,
    ("HardSigmoid", "beta"): 0.5,
}

Op = tuple[str, tuple[tuple[str, object], ...]]


def exported_ops(arch: Arch) -> list[Op]:
    """Operator types and attributes of ``arch`` exported as ``hwnas export`` does."""
    import onnx
    import torch

    model = build_model(arch).eval()
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model,
            (torch.zeros(1, arch.in_channels, arch.resolution, arch.resolution),),
            buffer,
            dynamo=False,
            input_names=["input"],
            output_names=["logits"],
            opset_version=17,
            dynamic_axes={"input": {0: "batch", 2: "height", 3: "width"}, "logits": {0: "batch"}},
            do_constant_folding=True,
        )
    graph = onnx.load_from_string(buffer.getvalue()).graph
    return [_op(node) for node in graph.node if node.op_type not in FOLDED]


def _op(node: Any) -> Op:
    """A node's type and its attributes other than ONNX defaults (floats to 6 decimals)."""
    from onnx import helper

    found = []
    for attribute in node.attribute:
        value = helper.get_attribute_value(attribute)
        if isinstance(value, float):
            value = round(value, 6)
        elif isinstance(value, list):
            value = tuple(value)
        if DEFAULTS.get((node.op_type, attribute.name)) != value:
            found.append((attribute.name, value))
    return node.op_type, tuple(sorted(found))


def ours(arch: Arch) -> list[Op]:
    return [_op(node) for node in network_model(arch).graph.node]


NETWORKS = [
    parse_arch_or_baseline(name)
    for name in ("mobilenet_v2_0.5_96", "mobilenet_v3_large_0.75_96", "mobilenet_v3_small_1.0_96")
] + [
    SearchSpace.preset(name).with_task(1, 10).sample(np.random.default_rng(seed))
    for name in ("v2", "v3")
    for seed in (1, 2)
]


@pytest.mark.parametrize("arch", NETWORKS, ids=[a.to_str() for a in NETWORKS])
def test_network_graph_has_the_exported_operators(arch: Arch) -> None:
    assert ours(arch) == exported_ops(arch)


SIGNATURES = sorted(
    {s for arch in NETWORKS for s in arch_signatures(arch)},
    key=lambda s: (s.op, s.key),
)[::7]


@pytest.mark.parametrize("signature", SIGNATURES, ids=[s.key for s in SIGNATURES])
def test_layer_models_run_with_their_shapes(signature: Signature) -> None:
    import onnx
    import onnxruntime as ort

    model = layer_model(signature)
    onnx.checker.check_model(model)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(
        model.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )
    x = np.random.default_rng(0).standard_normal(input_shape(signature)).astype(np.float32)
    (y,) = session.run(None, {"x": x})
    assert y.shape == output_shape(signature)
    assert np.isfinite(y).all()


def test_the_sample_covers_every_kind() -> None:
    kinds = {(s.op, s.se, s.residual, s.mid_channels != s.in_channels) for s in SIGNATURES}
    assert {kind[0] for kind in kinds} == {"stem", "pointwise", "ir", "head", "depthwise"}
    ir = {kind[1:] for kind in kinds if kind[0] == "ir"}
    assert {se for se, _, _ in ir} == {False, True}
    assert {residual for _, residual, _ in ir} == {False, True}
    assert {expands for _, _, expands in ir} == {False, True}
