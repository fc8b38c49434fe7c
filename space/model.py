"""Build a PyTorch module from an `Arch`. Imports torch, so `space/__init__` loads it lazily.

Every module is made from the layer walk `space.layers.blocks`, so shapes, widths and costs come
from the one walk that also counts them.
"""

from __future__ import annotations

import torch
from torch import nn

from space.arch import ACTIVATIONS, Arch
from space.layers import Block, Layer, blocks, se_width


def _activation(name: str) -> nn.Module:
    if name == "relu":
        return nn.ReLU(inplace=True)
    if name == "relu6":
        return nn.ReLU6(inplace=True)
    if name == "hswish":
        return nn.Hardswish(inplace=True)
    raise ValueError(f"unknown activation {name!r}: expected one of {', '.join(ACTIVATIONS)}")


def _conv_bn(layer: Layer) -> nn.Sequential:
    """``conv-BN-act`` (``conv-BN`` for a linear layer) of one convolution layer of the walk."""
    groups = layer.in_channels if layer.kind == "depthwise" else 1
    modules: list[nn.Module] = [
        nn.Conv2d(
            layer.in_channels,
            layer.out_channels,
            layer.kernel,
            stride=layer.stride,
            padding=layer.kernel // 2,
            groups=groups,
            bias=False,
        ),
        nn.BatchNorm2d(layer.out_channels),
    ]
    if layer.activation is not None:
        modules.append(_activation(layer.activation))
    return nn.Sequential(*modules)


class SqueezeExcite(nn.Module):
    """MobileNetV3's squeeze-and-excite: pool, 1x1 + ReLU, 1x1 + hard-sigmoid, scale the input."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        reduced = se_width(channels)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.reduce = nn.Conv2d(channels, reduced, 1)
        self.act = nn.ReLU(inplace=True)
        self.expand = nn.Conv2d(reduced, channels, 1)
        self.gate = nn.Hardsigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scale = self.gate(self.expand(self.act(self.reduce(self.pool(x)))))
        return x * scale


class InvertedResidual(nn.Module):
    """One inverted-residual block: its layers in ``layers``, plus the input when ``residual``."""

    def __init__(self, block: Block) -> None:
        super().__init__()
        self.residual = block.residual
        self.layers = nn.Sequential(
            *(
                SqueezeExcite(layer.in_channels) if layer.kind == "se" else _conv_bn(layer)
                for layer in block.layers
            )
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.layers(x)
        return x + out if self.residual else out


class MobileNet(nn.Module):
    """A MobileNet-style network: ``features``, global average pool, ``hidden``, ``classifier``.

    ``features`` holds the stem's conv-BN-act, one conv-BN-act per layer of a ``ds`` block
    (depthwise, pointwise: MobileNetV1's layout, so its checkpoints keep their keys), one
    `InvertedResidual` per ``ir`` block, and the head's 1x1 conv if any. ``hidden`` is the head's
    hidden layer (linear + act) or an identity.
    """

    def __init__(self, arch: Arch) -> None:
        super().__init__()
        self.arch = arch
        *body, head = blocks(arch)
        features: list[nn.Module] = []
        for block in body:
            if block.kind == "ir":
                features.append(InvertedResidual(block))
            else:
                features += [_conv_bn(layer) for layer in block.layers]
        hidden: nn.Module = nn.Identity()
        for layer in head.layers:
            if layer.kind == "head_conv":
                features.append(_conv_bn(layer))
            elif layer.kind == "hidden":
                hidden = nn.Sequential(
                    nn.Linear(layer.in_channels, layer.out_channels),
                    _activation(str(layer.activation)),
                )
        classifier = head.layers[-1]
        self.features = nn.Sequential(*features)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.hidden = hidden
        self.classifier = nn.Linear(classifier.in_channels, classifier.out_channels)
        self._init_weights()

    def layer_modules(self) -> list[nn.Module]:
        """One module per layer of `space.layers(arch)`, in the same order (for inspection)."""
        found: list[nn.Module] = []
        for module in self.features:
            if isinstance(module, InvertedResidual):
                found += list(module.layers)
            else:
                found.append(module)
        if isinstance(self.hidden, nn.Sequential):
            found.append(self.hidden)
        found.append(self.classifier)
        return found

    def _init_weights(self) -> None:
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)
            elif isinstance(module, nn.Linear):
                nn.init.normal_(module.weight, 0.0, 0.01)
                nn.init.zeros_(module.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)
        x = torch.flatten(self.pool(x), 1)
        return self.classifier(self.hidden(x))


def build_model(arch: Arch) -> MobileNet:
    """The PyTorch network for ``arch`` (blocks as described in `space.arch`)."""
    return MobileNet(arch)
