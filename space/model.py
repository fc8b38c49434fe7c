"""Build a PyTorch module from an `Arch`. Imports torch, so `space/__init__` loads it lazily."""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

from space.arch import Arch
from space.layers import layers

Activation = Literal["relu", "relu6"]
ACTIVATIONS: tuple[str, ...] = ("relu", "relu6")


def _activation(name: str) -> nn.Module:
    if name == "relu":
        return nn.ReLU(inplace=True)
    if name == "relu6":
        return nn.ReLU6(inplace=True)
    raise ValueError(f"unknown activation {name!r}: expected one of {', '.join(ACTIVATIONS)}")


def _conv_bn_act(
    in_channels: int, out_channels: int, kernel: int, stride: int, groups: int, activation: str
) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(
            in_channels,
            out_channels,
            kernel,
            stride=stride,
            padding=kernel // 2,
            groups=groups,
            bias=False,
        ),
        nn.BatchNorm2d(out_channels),
        _activation(activation),
    )


class MobileNet(nn.Module):
    """MobileNetV1-style network: stem conv, depthwise-separable blocks, pool and classifier.

    ``features`` holds one ``conv-BN-act`` triple per layer of ``space.layers(arch)`` (stem,
    then depthwise and pointwise of each block), so module index i is layer i of the walk.
    """

    def __init__(self, arch: Arch, activation: Activation = "relu") -> None:
        super().__init__()
        self.arch = arch
        convs: list[nn.Module] = []
        head_in = arch.stem_width
        for layer in layers(arch):
            if layer.kind == "head":
                head_in = layer.in_channels
                continue
            groups = layer.in_channels if layer.kind == "depthwise" else 1
            convs.append(
                _conv_bn_act(
                    layer.in_channels,
                    layer.out_channels,
                    layer.kernel,
                    layer.stride,
                    groups,
                    activation,
                )
            )
        self.features = nn.Sequential(*convs)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(head_in, arch.num_classes)
        self._init_weights()

    def _init_weights(self) -> None:
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)
            elif isinstance(module, nn.Linear):
                nn.init.normal_(module.weight, 0.0, 0.01)
                nn.init.zeros_(module.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)
        x = torch.flatten(self.pool(x), 1)
        return self.classifier(x)


def build_model(arch: Arch, activation: Activation = "relu") -> MobileNet:
    """The PyTorch network for ``arch`` (depthwise k×k + BN + act, pointwise 1×1 + BN + act)."""
    return MobileNet(arch, activation=activation)
