"""Walk an `Arch` into its layers and count multiply-adds and parameters analytically.

This walk is the single place that threads channels and spatial sizes through a network: the
model builder, ``hwnas space show`` and the latency keys are all derived from it.

Counting conventions (those of Howard et al. 2017, Tables 6 and 7):

* multiply-adds: convolutions and the classifier only (BN, ReLU and pooling are not counted);
* ``params``: convolution weights plus the classifier's weights and bias (the paper's figure);
* ``bn_params``: BatchNorm scale and shift, reported separately; the built PyTorch model holds
  ``params + bn_params`` trainable parameters.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from space.arch import STEM_KERNEL, STEM_STRIDE, Arch

LayerKind = Literal["stem", "depthwise", "pointwise", "head"]


def conv_out_size(size: int, stride: int) -> int:
    """Output size of a 'same'-padded (padding k // 2, odd k) convolution: ceil(size / stride)."""
    return -(-size // stride)


@dataclass(frozen=True)
class Layer:
    """One layer of a network, with shapes and analytic costs. Spatial sizes are square."""

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

    @property
    def in_shape(self) -> tuple[int, int, int]:
        """(channels, height, width) of the input."""
        return (self.in_channels, self.in_size, self.in_size)

    @property
    def out_shape(self) -> tuple[int, ...]:
        """(channels, height, width) of the output; (classes,) for the head."""
        if self.kind == "head":
            return (self.out_channels,)
        return (self.out_channels, self.out_size, self.out_size)


def layers(arch: Arch) -> list[Layer]:
    """The network's layers in execution order: stem, (depthwise, pointwise) per block, head."""
    size = conv_out_size(arch.resolution, STEM_STRIDE)
    result = [
        Layer(
            name="stem",
            kind="stem",
            in_size=arch.resolution,
            in_channels=arch.in_channels,
            out_size=size,
            out_channels=arch.stem_width,
            kernel=STEM_KERNEL,
            stride=STEM_STRIDE,
            macs=size * size * arch.stem_width * arch.in_channels * STEM_KERNEL * STEM_KERNEL,
            params=arch.stem_width * arch.in_channels * STEM_KERNEL * STEM_KERNEL,
            bn_params=2 * arch.stem_width,
        )
    ]
    channels = arch.stem_width
    for stage_index, stage in enumerate(arch.stages, start=1):
        for block_index in range(1, stage.depth + 1):
            stride = stage.stride if block_index == 1 else 1
            out_size = conv_out_size(size, stride)
            prefix = f"s{stage_index}.b{block_index}"
            result.append(
                Layer(
                    name=f"{prefix}.dw",
                    kind="depthwise",
                    in_size=size,
                    in_channels=channels,
                    out_size=out_size,
                    out_channels=channels,
                    kernel=stage.kernel,
                    stride=stride,
                    macs=out_size * out_size * channels * stage.kernel * stage.kernel,
                    params=channels * stage.kernel * stage.kernel,
                    bn_params=2 * channels,
                )
            )
            result.append(
                Layer(
                    name=f"{prefix}.pw",
                    kind="pointwise",
                    in_size=out_size,
                    in_channels=channels,
                    out_size=out_size,
                    out_channels=stage.width,
                    kernel=1,
                    stride=1,
                    macs=out_size * out_size * channels * stage.width,
                    params=channels * stage.width,
                    bn_params=2 * stage.width,
                )
            )
            size, channels = out_size, stage.width
    result.append(
        Layer(
            name="head",
            kind="head",
            in_size=size,
            in_channels=channels,
            out_size=1,
            out_channels=arch.num_classes,
            kernel=size,
            stride=1,
            macs=channels * arch.num_classes,
            params=channels * arch.num_classes + arch.num_classes,
            bn_params=0,
        )
    )
    return result


def count_macs(arch: Arch) -> int:
    """Multiply-adds of one forward pass (batch 1), convolutions and classifier only."""
    return sum(layer.macs for layer in layers(arch))


def count_params(arch: Arch) -> int:
    """Parameters in the paper's convention: conv weights plus classifier weights and bias."""
    return sum(layer.params for layer in layers(arch))


def count_trainable_params(arch: Arch) -> int:
    """Parameters of the built PyTorch model: ``count_params`` plus BatchNorm scale and shift."""
    return sum(layer.params + layer.bn_params for layer in layers(arch))
