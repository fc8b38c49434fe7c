"""ONNX graphs of single layers and of whole networks, built from one set of layer builders.

What a deployed network runs (BatchNorm folded into the convolution): ``Conv(+bias) -> Relu`` (or
``Clip(0, 6)`` for relu6) for the stem, each depthwise and each pointwise layer, and
``GlobalAveragePool -> Flatten -> Gemm`` for the head. A layer model is one such layer between a
graph input and a graph output; a network model chains the same nodes, so the per-layer table and
the whole-network measurement time the same operators.

Weights are deterministic pseudo-random values. ``external`` stores every initializer as a slice
of one shared ``weights.bin`` file (`WEIGHTS_FILE`), so that a bundle of hundreds of layer models
stays small: timing does not depend on the weight values, only on their being normal floats.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from latency.signature import Signature, arch_signatures
from space import Arch

OPSET = 17
WEIGHTS_FILE = "weights.bin"
INPUT_NAME = "x"
OUTPUT_NAME = "y"


def shared_weights(count: int, seed: int = 0) -> np.ndarray:
    """``count`` float32 weights in [-0.1, 0.1] (normal floats: no denormal slow paths)."""
    rng = np.random.default_rng(seed)
    return rng.uniform(-0.1, 0.1, size=count).astype(np.float32)


def weight_count(signature: Signature) -> int:
    """Float32 values of the layer's weight tensor (the largest of its initializers)."""
    if signature.op == "head":
        return signature.in_channels * signature.out_channels
    if signature.op == "depthwise":
        return signature.in_channels * signature.kernel * signature.kernel
    return signature.in_channels * signature.out_channels * signature.kernel * signature.kernel


class _Graph:
    """Nodes and initializers being assembled; initializer data is sliced from shared weights."""

    def __init__(self, weights: np.ndarray, external: bool) -> None:
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self.weights = weights
        self.external = external
        self.counter = 0

    def fresh(self, stem: str) -> str:
        self.counter += 1
        return f"{stem}{self.counter}"

    def initializer(self, name: str, shape: tuple[int, ...]) -> str:
        from onnx import TensorProto, helper

        count = int(np.prod(shape))
        if count > self.weights.size:
            raise ValueError(
                f"initializer {name} needs {count} weights; the shared pool has {self.weights.size}"
            )
        if self.external:
            tensor = TensorProto()
            tensor.name = name
            tensor.data_type = TensorProto.FLOAT
            tensor.dims.extend(shape)
            tensor.data_location = TensorProto.EXTERNAL
            for key, value in (
                ("location", WEIGHTS_FILE),
                ("offset", "0"),
                ("length", str(4 * count)),
            ):
                entry = tensor.external_data.add()
                entry.key, entry.value = key, value
        else:
            data = self.weights[:count].reshape(shape)
            tensor = helper.make_tensor(name, TensorProto.FLOAT, shape, data.tobytes(), raw=True)
        self.initializers.append(tensor)
        return name

    def layer(self, signature: Signature, source: str) -> str:
        """Append the nodes of one layer reading ``source``; returns its output name."""
        from onnx import helper

        s = signature
        if s.dtype != "fp32":
            raise ValueError(f"ONNX layer models are fp32 only, got dtype {s.dtype!r} in {s.key}")
        if s.op == "head":
            pooled = self.fresh("pool")
            flat = self.fresh("flat")
            out = self.fresh("logits")
            weight = self.initializer(self.fresh("fc_w"), (s.out_channels, s.in_channels))
            bias = self.initializer(self.fresh("fc_b"), (s.out_channels,))
            self.nodes += [
                helper.make_node("GlobalAveragePool", [source], [pooled]),
                helper.make_node("Flatten", [pooled], [flat], axis=1),
                helper.make_node("Gemm", [flat, weight, bias], [out], transB=1),
            ]
            return out
        groups = s.in_channels if s.op == "depthwise" else 1
        out_channels = s.in_channels if s.op == "depthwise" else s.out_channels
        weight = self.initializer(
            self.fresh("w"), (out_channels, s.in_channels // groups, s.kernel, s.kernel)
        )
        bias = self.initializer(self.fresh("b"), (out_channels,))
        conv = self.fresh("conv")
        out = self.fresh("act")
        pad = s.kernel // 2
        self.nodes.append(
            helper.make_node(
                "Conv",
                [source, weight, bias],
                [conv],
                kernel_shape=[s.kernel, s.kernel],
                strides=[s.stride, s.stride],
                pads=[pad, pad, pad, pad],
                group=groups,
            )
        )
        if s.activation == "relu6":
            low = self.initializer_scalar(0.0)
            high = self.initializer_scalar(6.0)
            self.nodes.append(helper.make_node("Clip", [conv, low, high], [out]))
        else:
            self.nodes.append(helper.make_node("Relu", [conv], [out]))
        return out

    def initializer_scalar(self, value: float) -> str:
        from onnx import TensorProto, helper

        name = self.fresh("c")
        self.initializers.append(helper.make_tensor(name, TensorProto.FLOAT, [], [value]))
        return name


def input_shape(signature: Signature) -> tuple[int, int, int, int]:
    """NCHW shape of the layer's input at batch 1."""
    return (1, signature.in_channels, signature.in_h, signature.in_w)


def output_shape(signature: Signature) -> tuple[int, ...]:
    """Shape of the layer's output at batch 1."""
    if signature.op == "head":
        return (1, signature.out_channels)
    channels = signature.in_channels if signature.op == "depthwise" else signature.out_channels
    return (1, channels, signature.out_h, signature.out_w)


def _model(graph: _Graph, first: Signature, last: Signature, output: str, name: str) -> Any:
    from onnx import TensorProto, helper

    # Rename the last node's output to the graph output name.
    graph.nodes[-1].output[0] = OUTPUT_NAME
    del output
    onnx_graph = helper.make_graph(
        graph.nodes,
        name,
        [helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, list(input_shape(first)))],
        [helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.FLOAT, list(output_shape(last)))],
        graph.initializers,
    )
    model = helper.make_model(
        onnx_graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="hwnas",
    )
    model.ir_version = 8
    return model


def layer_model(
    signature: Signature, weights: np.ndarray | None = None, *, external: bool = False
) -> Any:
    """The ONNX model of one layer (``onnx.ModelProto``)."""
    pool = weights if weights is not None else shared_weights(weight_count(signature) + 4096)
    graph = _Graph(pool, external)
    out = graph.layer(signature, INPUT_NAME)
    return _model(graph, signature, signature, out, signature.key)


def chain_model(
    signatures: list[Signature], weights: np.ndarray | None = None, *, external: bool = False
) -> Any:
    """The ONNX model of consecutive layers (a whole network when given all of its layers)."""
    if not signatures:
        raise ValueError("a chain model needs at least one layer signature")
    need = max(weight_count(s) for s in signatures) + 4096
    pool = weights if weights is not None else shared_weights(need)
    graph = _Graph(pool, external)
    source = INPUT_NAME
    for signature in signatures:
        source = graph.layer(signature, source)
    return _model(graph, signatures[0], signatures[-1], source, "network")


def network_model(
    arch: Arch,
    activation: str = "relu",
    dtype: str = "fp32",
    weights: np.ndarray | None = None,
    *,
    external: bool = False,
) -> Any:
    """The whole network ``arch`` as one ONNX graph, from the same layer builders."""
    return chain_model(arch_signatures(arch, activation, dtype), weights, external=external)


def _single_node_model(nodes: list[Any], shape: tuple[int, ...], domains: list[str]) -> Any:
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        nodes,
        "probe",
        [helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, list(shape))],
        [helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.FLOAT, list(shape))],
    )
    opsets = [helper.make_opsetid("", OPSET)] + [helper.make_opsetid(d, 1) for d in domains]
    model = helper.make_model(graph, opset_imports=opsets, producer_name="hwnas")
    model.ir_version = 8
    return model


def call_model() -> Any:
    """A one-element Relu: what one ``run`` call costs when the graph does (almost) nothing."""
    from onnx import helper

    return _single_node_model(
        [helper.make_node("Relu", [INPUT_NAME], [OUTPUT_NAME])], (1, 1, 1, 1), []
    )


def reorder_model(shape: tuple[int, ...]) -> Any:
    """NCHW -> blocked NCHWc -> NCHW of a tensor: the reorder pair a single-layer model pays.

    Uses onnxruntime's own ``com.microsoft.nchwc`` ops, the ones its layout optimizer inserts.
    """
    from onnx import helper

    domain = "com.microsoft.nchwc"
    nodes = [
        helper.make_node("ReorderInput", [INPUT_NAME], ["t"], domain=domain, channels_last=0),
        helper.make_node(
            "ReorderOutput", ["t"], [OUTPUT_NAME], domain=domain, channels_last=0, channels=shape[1]
        ),
    ]
    return _single_node_model(nodes, shape, [domain])


def reorder_check_model() -> Any:
    """A pointwise layer whose optimized form shows whether the runtime reorders layouts."""
    return layer_model(Signature("pointwise", 8, 8, 64, 64, 1, 1))
