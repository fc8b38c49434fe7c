"""ONNX graphs of single signatures and of whole networks, built from one set of builders.

What a deployed network runs, as ``hwnas export`` writes it (BatchNorm folded into the
convolution): ``Conv(+bias) -> act`` for the stem, each depthwise and each pointwise layer, where
act is ``Relu``, ``Clip(0, 6)`` (relu6) or ``HardSwish``; an inverted-residual block is its
expansion conv + act (if any), depthwise conv + act, squeeze-and-excite (``GlobalAveragePool ->
Conv -> Relu -> Conv -> HardSigmoid -> Mul``) if any, projection conv without act, and ``Add`` of
its input if residual; the head is ``GlobalAveragePool -> Flatten``, a hidden ``Gemm -> act`` if
any, and the classifier ``Gemm``. A signature's model is its nodes between a graph input and a
graph output; a network model chains the same nodes, so the table and the whole-network
measurement time the same operators.

Weights are deterministic pseudo-random values. ``external`` stores every initializer as a slice
of one shared ``weights.bin`` file (`WEIGHTS_FILE`), so that a bundle of hundreds of layer models
stays small: timing does not depend on the weight values, only on their being normal floats.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from latency.signature import Signature, arch_signatures
from space import Arch
from space.layers import se_width

OPSET = 17
WEIGHTS_FILE = "weights.bin"
INPUT_NAME = "x"
OUTPUT_NAME = "y"


def shared_weights(count: int, seed: int = 0) -> np.ndarray:
    """``count`` float32 weights in [-0.1, 0.1] (normal floats: no denormal slow paths)."""
    rng = np.random.default_rng(seed)
    return rng.uniform(-0.1, 0.1, size=count).astype(np.float32)


def weight_count(signature: Signature) -> int:
    """Float32 values of the signature's largest weight tensor (the shared pool's minimum size)."""
    return max(int(np.prod(shape)) for shape in signature.weight_shapes())


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
        """Append the nodes of one signature reading ``source``; returns its output name."""
        s = signature
        if s.dtype != "fp32":
            raise ValueError(f"ONNX layer models are fp32 only, got dtype {s.dtype!r} in {s.key}")
        if s.op == "head":
            return self.head(s, source)
        if s.op != "ir":
            groups = s.in_channels if s.op == "depthwise" else 1
            conv = self.conv(source, s.in_channels, s.out_channels, s.kernel, s.stride, groups)
            return self.activate(conv, s.activation)
        out = source
        if s.mid_channels != s.in_channels:
            out = self.activate(self.conv(out, s.in_channels, s.mid_channels, 1, 1), s.activation)
        dw = self.conv(out, s.mid_channels, s.mid_channels, s.kernel, s.stride, s.mid_channels)
        out = self.activate(dw, s.activation)
        if s.se:
            out = self.squeeze_excite(out, s.mid_channels)
        out = self.conv(out, s.mid_channels, s.out_channels, 1, 1)
        if s.residual:
            added = self.fresh("add")
            self.nodes.append(self._node("Add", [source, out], [added]))
            out = added
        return out

    @staticmethod
    def _node(op: str, inputs: list[str], outputs: list[str], **attributes: Any) -> Any:
        from onnx import helper

        return helper.make_node(op, inputs, outputs, **attributes)

    def conv(
        self, source: str, cin: int, cout: int, kernel: int, stride: int, groups: int = 1
    ) -> str:
        """A 'same'-padded convolution with bias (BatchNorm folded in)."""
        weight = self.initializer(self.fresh("w"), (cout, cin // groups, kernel, kernel))
        bias = self.initializer(self.fresh("b"), (cout,))
        out = self.fresh("conv")
        pad = kernel // 2
        self.nodes.append(
            self._node(
                "Conv",
                [source, weight, bias],
                [out],
                kernel_shape=[kernel, kernel],
                strides=[stride, stride],
                pads=[pad, pad, pad, pad],
                group=groups,
            )
        )
        return out

    def activate(self, source: str, activation: str) -> str:
        """The activation node as PyTorch's exporter writes it."""
        out = self.fresh("act")
        if activation == "relu6":
            low, high = self.initializer_scalar(0.0), self.initializer_scalar(6.0)
            self.nodes.append(self._node("Clip", [source, low, high], [out]))
        elif activation == "hswish":
            self.nodes.append(self._node("HardSwish", [source], [out]))
        else:
            self.nodes.append(self._node("Relu", [source], [out]))
        return out

    def squeeze_excite(self, source: str, channels: int) -> str:
        """Pool, 1x1 reduce + Relu, 1x1 expand + hard-sigmoid, scale ``source`` by the gate."""
        pooled = self.fresh("pool")
        self.nodes.append(self._node("GlobalAveragePool", [source], [pooled]))
        reduced = se_width(channels)
        squeezed = self.fresh("relu")
        self.nodes.append(
            self._node("Relu", [self.conv(pooled, channels, reduced, 1, 1)], [squeezed])
        )
        gate = self.fresh("gate")
        expanded = self.conv(squeezed, reduced, channels, 1, 1)
        self.nodes.append(self._node("HardSigmoid", [expanded], [gate], alpha=1.0 / 6.0, beta=0.5))
        out = self.fresh("scaled")
        self.nodes.append(self._node("Mul", [source, gate], [out]))
        return out

    def gemm(self, source: str, cin: int, cout: int) -> str:
        """A fully connected layer with bias."""
        weight = self.initializer(self.fresh("fc_w"), (cout, cin))
        bias = self.initializer(self.fresh("fc_b"), (cout,))
        out = self.fresh("fc")
        self.nodes.append(self._node("Gemm", [source, weight, bias], [out], transB=1))
        return out

    def head(self, s: Signature, source: str) -> str:
        """Pool, flatten, the hidden layer + act if any, the classifier."""
        pooled = self.fresh("pool")
        flat = self.fresh("flat")
        self.nodes += [
            self._node("GlobalAveragePool", [source], [pooled]),
            self._node("Flatten", [pooled], [flat], axis=1),
        ]
        features = s.in_channels
        if s.mid_channels:
            flat = self.activate(self.gemm(flat, features, s.mid_channels), s.activation)
            features = s.mid_channels
        return self.gemm(flat, features, s.out_channels)

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
    return (1, signature.out_channels, signature.out_h, signature.out_w)


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
