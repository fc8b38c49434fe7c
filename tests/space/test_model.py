"""`build_model`: forward shapes, the activation option, module layout, lazy torch import."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch
from torch import nn

from space import Arch, build_model, layers

TINY = Arch.parse("stem_r32_i3_c8:ds_r1_k3_s1_c16:ds_r2_k5_s2_c24:head_n10")


def test_forward_shape() -> None:
    model = build_model(TINY)
    out = model(torch.randn(4, 3, 32, 32))
    assert out.shape == (4, 10)
    # Global average pooling: other input sizes work too.
    assert model(torch.randn(2, 3, 45, 45)).shape == (2, 10)


def test_module_layout_follows_the_layer_walk() -> None:
    model = build_model(TINY)
    walk = [layer for layer in layers(TINY) if layer.kind != "head"]
    assert len(model.features) == len(walk)
    for block, layer in zip(model.features, walk, strict=True):
        conv, bn, act = block
        assert isinstance(conv, nn.Conv2d) and isinstance(bn, nn.BatchNorm2d)
        assert isinstance(act, nn.ReLU)
        assert conv.kernel_size == (layer.kernel, layer.kernel)
        assert conv.stride == (layer.stride, layer.stride)
        assert conv.groups == (layer.in_channels if layer.kind == "depthwise" else 1)
        assert conv.bias is None
    assert model.classifier.in_features == 24
    assert model.classifier.out_features == 10


def test_relu6_option() -> None:
    model = build_model(TINY, activation="relu6")
    acts = [m for m in model.modules() if isinstance(m, nn.ReLU | nn.ReLU6)]
    assert acts and all(isinstance(m, nn.ReLU6) for m in acts)
    assert len(acts) == len(layers(TINY)) - 1
    torch.manual_seed(0)
    x = torch.randn(2, 3, 32, 32) * 100
    # Every activation output is clipped to [0, 6].
    outputs: list[torch.Tensor] = []
    for m in acts:
        m.register_forward_hook(lambda _m, _i, o: outputs.append(o.detach().clone()))
    model.eval()(x)
    assert max(float(o.max()) for o in outputs) <= 6.0
    assert min(float(o.min()) for o in outputs) >= 0.0


def test_unknown_activation_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match=r"unknown activation 'gelu': expected one of relu, relu6"):
        build_model(TINY, activation="gelu")


def test_every_parameter_gets_a_gradient() -> None:
    torch.manual_seed(0)
    model = build_model(TINY)
    x, y = torch.randn(8, 3, 32, 32), torch.randint(0, 10, (8,))
    loss = nn.functional.cross_entropy(model(x), y)
    loss.backward()
    assert torch.isfinite(loss)
    for name, p in model.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
        assert float(p.grad.abs().max()) > 0, name


def test_importing_space_does_not_import_torch() -> None:
    code = "import sys, space; space.Arch; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)
