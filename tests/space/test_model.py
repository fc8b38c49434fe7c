"""`build_model`: shapes, activations, module layout, inverted residuals, lazy torch import."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch
from torch import nn

from space import Arch, build_model, layers, parse_arch_or_baseline
from space.layers import se_width
from space.model import InvertedResidual, SqueezeExcite

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


def test_relu6_stages() -> None:
    arch = Arch.parse("stem_r32_i3_c8_relu6:ds_r1_k3_s1_c16_relu6:ds_r2_k5_s2_c24_relu6:head_n10")
    model = build_model(arch)
    acts = [m for m in model.modules() if isinstance(m, nn.ReLU | nn.ReLU6)]
    assert acts and all(isinstance(m, nn.ReLU6) for m in acts)
    assert len(acts) == len(layers(arch)) - 1
    torch.manual_seed(0)
    x = torch.randn(2, 3, 32, 32) * 100
    # Every activation output is clipped to [0, 6].
    outputs: list[torch.Tensor] = []
    for m in acts:
        m.register_forward_hook(lambda _m, _i, o: outputs.append(o.detach().clone()))
    model.eval()(x)
    assert max(float(o.max()) for o in outputs) <= 6.0
    assert min(float(o.min()) for o in outputs) >= 0.0
    # The state dict of a V1 network does not depend on its activation.
    assert model.state_dict().keys() == build_model(TINY).state_dict().keys()


def test_v1_checkpoint_keys_are_unchanged() -> None:
    """One conv-BN-act triple per layer in ``features``: old checkpoints still load."""
    keys = list(build_model(TINY).state_dict())
    assert keys[:3] == ["features.0.0.weight", "features.0.1.weight", "features.0.1.bias"]
    assert keys[-2:] == ["classifier.weight", "classifier.bias"]
    assert {key.split(".")[1] for key in keys if key.startswith("features.")} == {
        str(i) for i in range(len(layers(TINY)) - 1)
    }


IR = Arch.parse(
    "stem_r32_i3_c16_hswish:ir_r2_k5_s2_e4_c24_se:ir_r1_k3_s1_e1_c24_relu6:head_c48_h64_n10_hswish"
)


def test_inverted_residual_modules_follow_the_walk() -> None:
    model = build_model(IR)
    walk = layers(IR)
    modules = model.layer_modules()
    assert len(modules) == len(walk)
    for module, layer in zip(modules, walk, strict=True):
        if layer.kind == "se":
            assert isinstance(module, SqueezeExcite)
            assert module.reduce.out_channels == se_width(layer.in_channels)
            assert isinstance(module.gate, nn.Hardsigmoid)
        elif layer.kind in ("hidden", "head"):
            linear = module[0] if layer.kind == "hidden" else module
            assert isinstance(linear, nn.Linear)
            assert (linear.in_features, linear.out_features) == (
                layer.in_channels,
                layer.out_channels,
            )
        else:
            conv = module[0]
            assert isinstance(conv, nn.Conv2d) and conv.bias is None
            assert conv.kernel_size == (layer.kernel, layer.kernel)
            assert conv.stride == (layer.stride, layer.stride)
            assert isinstance(module[1], nn.BatchNorm2d)
            # The projection is linear: conv and BN only.
            assert len(module) == (2 if layer.kind == "project" else 3)
            if layer.activation == "hswish":
                assert isinstance(module[2], nn.Hardswish)
    assert isinstance(model.hidden[1], nn.Hardswish)
    residuals = [m.residual for m in model.features if isinstance(m, InvertedResidual)]
    assert residuals == [False, True, True]


def test_residual_adds_the_input() -> None:
    """With the projection's BN zeroed, a residual block is the identity."""
    torch.manual_seed(0)
    arch = Arch.parse("stem_r16_i3_c16:ir_r2_k3_s1_e6_c16_se_hswish:head_n5")
    model = build_model(arch).eval()
    blocks = [m for m in model.features if isinstance(m, InvertedResidual)]
    assert [b.residual for b in blocks] == [True, True]
    x = torch.randn(2, 16, 8, 8)
    for block in blocks:
        projection_bn = block.layers[-1][1]
        nn.init.zeros_(projection_bn.weight)
        nn.init.zeros_(projection_bn.bias)
        assert torch.equal(block(x), x)


def test_hard_swish_and_squeeze_excite_compute_the_papers_functions() -> None:
    torch.manual_seed(0)
    x = torch.linspace(-5, 5, 101)
    assert torch.allclose(nn.Hardswish()(x), x * torch.clamp(x + 3, 0, 6) / 6)
    se = SqueezeExcite(16).eval()
    features = torch.randn(2, 16, 4, 4)
    pooled = features.mean((2, 3), keepdim=True)
    gate = torch.clamp(se.expand(torch.relu(se.reduce(pooled))) + 3, 0, 6) / 6
    assert torch.allclose(se(features), features * gate, atol=1e-6)


@pytest.mark.parametrize("name", ["mobilenet_v2_0.35_96", "mobilenet_v3_small_0.75_96"])
def test_baselines_train_one_step(name: str) -> None:
    torch.manual_seed(0)
    model = build_model(parse_arch_or_baseline(name, num_classes=4))
    x, y = torch.randn(4, 3, 96, 96), torch.randint(0, 4, (4,))
    loss = nn.functional.cross_entropy(model(x), y)
    loss.backward()
    assert torch.isfinite(loss)
    assert all(p.grad is not None for p in model.parameters())


@pytest.mark.parametrize("arch", [TINY, IR], ids=["ds", "ir"])
def test_every_parameter_gets_a_gradient(arch: Arch) -> None:
    torch.manual_seed(0)
    model = build_model(arch)
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
