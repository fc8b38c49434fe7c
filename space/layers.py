"""Walk an `Arch` into its blocks and layers and count multiply-adds and parameters analytically.

This walk is the single place that threads channels and spatial sizes through a network: the
model builder, ``hwnas space show`` and the latency keys are all derived from it.

Counting conventions:

* multiply-adds: every convolution (including squeeze-and-excite's two 1x1 layers and the head's
  convs) and every fully connected layer. Elementwise work is not a multiply-add and is not
  counted: BatchNorm, activations, pooling, squeeze-and-excite's gating multiply and the residual
  add. This is how the MobileNetV1 paper counts (Tables 6 and 7), how the MobileNetV2 paper's
  cost of a block is written (Table 1: h·w·d'·t·(d' + k² + d''), convolutions only), and how the
  reference implementations' figures come out: Keras' MobileNetV2 and MobileNetV3 counted this
  way give exactly our figures for every baseline of `space.baselines` (see there);
* ``params``: convolution weights, the biases of the layers that have one (squeeze-and-excite,
  the head's hidden layer) and the classifier's weights and bias, BatchNorm excluded (the papers'
  figures);
* ``bn_params``: BatchNorm scale and shift, reported separately; the built PyTorch model holds
  ``params + bn_params`` trainable parameters.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from space.arch import STEM_KERNEL, Arch, Stage, make_divisible

LayerKind = Literal[
    "stem", "depthwise", "pointwise", "expand", "se", "project", "head_conv", "hidden", "head"
]
BlockKind = Literal["stem", "ds", "ir", "head"]
#: Squeeze-and-excite reduces the expanded width to make_divisible(width / 4) (MobileNetV3).
SE_REDUCTION = 4
#: Layer kinds whose output is a vector (they pool the feature map or follow the pool).
VECTOR_KINDS = ("hidden", "head")


def conv_out_size(size: int, stride: int) -> int:
    """Output size of a 'same'-padded (padding k // 2, odd k) convolution: ceil(size / stride)."""
    return -(-size // stride)


def expanded_width(in_channels: int, expansion: float) -> int:
    """Middle width of an inverted-residual block: the input width itself when ``expansion`` is 1,
    else ``make_divisible(expansion * in_channels)``. The block has an expansion conv exactly
    when this differs from the input width (TF-Slim's and torchvision's rule)."""
    return in_channels if expansion == 1 else make_divisible(expansion * in_channels)


def se_width(channels: int) -> int:
    """Width squeeze-and-excite reduces ``channels`` to."""
    return make_divisible(channels / SE_REDUCTION)


@dataclass(frozen=True)
class Layer:
    """One layer of a network, with shapes and analytic costs. Spatial sizes are square.

    ``activation`` is the activation after the layer (None: linear, as the projection and the
    classifier). For ``se``, input and output are the block's middle feature map; for ``hidden``
    and ``head`` the input is the feature map they pool (``kernel`` is its size: 1 once pooled).
    """

    name: str
    kind: LayerKind
    in_size: int
    in_channels: int
    out_size: int
    out_channels: int
    kernel: int
    stride: int
    macs: int
    params: int
    bn_params: int
    activation: str | None = None

    @property
    def in_shape(self) -> tuple[int, int, int]:
        """(channels, height, width) of the input."""
        return (self.in_channels, self.in_size, self.in_size)

    @property
    def out_shape(self) -> tuple[int, ...]:
        """(channels, height, width) of the output; (units,) for the hidden layer and the head."""
        if self.kind in VECTOR_KINDS:
            return (self.out_channels,)
        return (self.out_channels, self.out_size, self.out_size)


@dataclass(frozen=True)
class Block:
    """A stem, a block of a stage, or the head, with the layers it is made of.

    ``mid_channels`` is an inverted residual's expanded width (its input width for other kinds);
    ``residual`` whether the block's input is added to its output.
    """

    name: str
    kind: BlockKind
    in_size: int
    in_channels: int
    mid_channels: int
    out_size: int
    out_channels: int
    kernel: int
    stride: int
    se: bool
    activation: str
    residual: bool
    layers: tuple[Layer, ...]

    @property
    def macs(self) -> int:
        """Multiply-adds of the block's layers."""
        return sum(layer.macs for layer in self.layers)


def _conv(
    name: str,
    kind: LayerKind,
    size: int,
    cin: int,
    cout: int,
    kernel: int,
    stride: int,
    activation: str | None,
    *,
    depthwise: bool = False,
) -> Layer:
    out = conv_out_size(size, stride)
    per_output = kernel * kernel * (1 if depthwise else cin)
    return Layer(
        name=name,
        kind=kind,
        in_size=size,
        in_channels=cin,
        out_size=out,
        out_channels=cout,
        kernel=kernel,
        stride=stride,
        macs=out * out * cout * per_output,
        params=cout * per_output,
        bn_params=2 * cout,
        activation=activation,
    )


def _depthwise(name: str, size: int, channels: int, kernel: int, stride: int, act: str) -> Layer:
    return _conv(name, "depthwise", size, channels, channels, kernel, stride, act, depthwise=True)


def stage_block(stage: Stage, name: str, size: int, channels: int, stride: int) -> Block:
    """One block of ``stage`` with ``stride`` on a ``size`` x ``size`` x ``channels`` input."""
    act = stage.activation
    out = conv_out_size(size, stride)
    walk: list[Layer] = []
    if stage.block == "ds":
        mid, residual = channels, False
        walk.append(_depthwise(f"{name}.dw", size, channels, stage.kernel, stride, act))
        walk.append(_conv(f"{name}.pw", "pointwise", out, channels, stage.width, 1, 1, act))
    else:
        mid = expanded_width(channels, stage.expansion)
        residual = stride == 1 and channels == stage.width
        if mid != channels:
            walk.append(_conv(f"{name}.exp", "expand", size, channels, mid, 1, 1, act))
        walk.append(_depthwise(f"{name}.dw", size, mid, stage.kernel, stride, act))
        if stage.se:
            walk.append(_squeeze_excite(f"{name}.se", out, mid))
        walk.append(_conv(f"{name}.proj", "project", out, mid, stage.width, 1, 1, None))
    return Block(
        name=name,
        kind="ds" if stage.block == "ds" else "ir",
        in_size=size,
        in_channels=channels,
        mid_channels=mid,
        out_size=out,
        out_channels=stage.width,
        kernel=stage.kernel,
        stride=stride,
        se=stage.se,
        activation=act,
        residual=residual,
        layers=tuple(walk),
    )


def _squeeze_excite(name: str, size: int, channels: int) -> Layer:
    """Pool, 1x1 to `se_width` + ReLU, 1x1 back + hard-sigmoid (both with bias), multiply."""
    reduced = se_width(channels)
    return Layer(
        name=name,
        kind="se",
        in_size=size,
        in_channels=channels,
        out_size=size,
        out_channels=channels,
        kernel=1,
        stride=1,
        macs=2 * channels * reduced,
        params=2 * channels * reduced + reduced + channels,
        bn_params=0,
    )


def _vector_layer(
    name: str, kind: LayerKind, size: int, cin: int, cout: int, activation: str | None
) -> Layer:
    """A fully connected layer with bias, pooling its ``size`` x ``size`` input first."""
    return Layer(
        name=name,
        kind=kind,
        in_size=size,
        in_channels=cin,
        out_size=1,
        out_channels=cout,
        kernel=size,
        stride=1,
        macs=cin * cout,
        params=cin * cout + cout,
        bn_params=0,
        activation=activation,
    )


def stem_block(
    resolution: int, in_channels: int, width: int, stride: int, activation: str
) -> Block:
    """The stem: a 3x3 conv + BN + act on the ``resolution`` x ``resolution`` input."""
    stem = _conv("stem", "stem", resolution, in_channels, width, STEM_KERNEL, stride, activation)
    return Block(
        name="stem",
        kind="stem",
        in_size=resolution,
        in_channels=in_channels,
        mid_channels=in_channels,
        out_size=stem.out_size,
        out_channels=width,
        kernel=STEM_KERNEL,
        stride=stride,
        se=False,
        activation=activation,
        residual=False,
        layers=(stem,),
    )


def head_block(
    size: int,
    channels: int,
    num_classes: int,
    width: int | None = None,
    hidden: int | None = None,
    activation: str = "relu",
) -> Block:
    """The head on a ``size`` x ``size`` x ``channels`` feature map: 1x1 conv to ``width``
    (+ BN + act) if given, global average pool, ``hidden`` units (+ act) if given, classifier."""
    walk: list[Layer] = []
    features = channels
    if width is not None:
        walk.append(_conv("head.conv", "head_conv", size, channels, width, 1, 1, activation))
        features = width
    # The first vector layer pools the feature map (kernel = its size); the next one sees 1x1.
    pooled = size
    if hidden is not None:
        walk.append(_vector_layer("head.hidden", "hidden", pooled, features, hidden, activation))
        features, pooled = hidden, 1
    walk.append(_vector_layer("head", "head", pooled, features, num_classes, None))
    return Block(
        name="head",
        kind="head",
        in_size=size,
        in_channels=channels,
        mid_channels=channels,
        out_size=1,
        out_channels=num_classes,
        kernel=size,
        stride=1,
        se=False,
        activation=activation,
        residual=False,
        layers=tuple(walk),
    )


def blocks(arch: Arch) -> list[Block]:
    """The network's blocks in execution order: stem, every block of every stage, head."""
    stem = stem_block(
        arch.resolution, arch.in_channels, arch.stem_width, arch.stem_stride, arch.stem_activation
    )
    result = [stem]
    size, channels = stem.out_size, stem.out_channels
    for stage_index, stage in enumerate(arch.stages, start=1):
        for block_index in range(1, stage.depth + 1):
            stride = stage.stride if block_index == 1 else 1
            block = stage_block(stage, f"s{stage_index}.b{block_index}", size, channels, stride)
            result.append(block)
            size, channels = block.out_size, block.out_channels
    head = head_block(
        size, channels, arch.num_classes, arch.head_width, arch.head_hidden, arch.head_activation
    )
    return [*result, head]


def layers(arch: Arch) -> list[Layer]:
    """The network's layers in execution order (the layers of `blocks`, flattened).

    MobileNetV1: stem, (depthwise, pointwise) per block, head. An inverted residual: expand
    (absent when the expansion is 1), depthwise, se (if any), project. The head: head_conv and
    hidden when present, then the classifier ``head``.
    """
    return [layer for block in blocks(arch) for layer in block.layers]


def count_macs(arch: Arch) -> int:
    """Multiply-adds of one forward pass (batch 1): convolutions and fully connected layers."""
    return sum(layer.macs for layer in layers(arch))


def count_params(arch: Arch) -> int:
    """Parameters in the papers' convention: weights and biases, BatchNorm excluded."""
    return sum(layer.params for layer in layers(arch))


def count_trainable_params(arch: Arch) -> int:
    """Parameters of the built PyTorch model: ``count_params`` plus BatchNorm scale and shift."""
    return sum(layer.params + layer.bn_params for layer in layers(arch))
