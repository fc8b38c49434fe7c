"""The published MobileNets against their published figures and the reference implementation."""

from __future__ import annotations

import dataclasses
import itertools
import json
from pathlib import Path

import pytest

from space import (
    PAPER_FIGURES,
    PUBLISHED,
    REFERENCE_COUNTS,
    Arch,
    Baseline,
    baseline_from_name,
    baseline_name,
    blocks,
    count_macs,
    count_params,
    count_trainable_params,
    make_divisible,
    mobilenet_v1,
    mobilenet_v2,
    mobilenet_v3,
    parse_arch_or_baseline,
    published_baselines,
)
from space.baselines import PAPER_ALPHAS, PAPER_RESOLUTIONS, SOURCES, V2_ALPHAS
from space.layers import layers, se_width

GRID = list(itertools.product(PAPER_ALPHAS, PAPER_RESOLUTIONS))


def test_grid_is_the_papers() -> None:
    assert len(GRID) == 16
    assert set(PAPER_FIGURES) <= set(GRID)
    assert len(PAPER_FIGURES) == 7


@pytest.mark.parametrize(("alpha", "resolution"), GRID, ids=[baseline_name(*g) for g in GRID])
def test_counts_match_the_paper(alpha: float, resolution: int) -> None:
    arch = mobilenet_v1(alpha, resolution)
    macs, params = count_macs(arch), count_params(arch)
    figures = PAPER_FIGURES.get((alpha, resolution))
    if figures is not None:
        assert macs / 1e6 == pytest.approx(figures.macs_millions, rel=0.01)
        # The paper prints parameters with one decimal.
        assert round(params / 1e6, 1) == figures.params_millions
    # Parameters do not depend on the resolution; the paper's 224 row gives them for every alpha.
    assert round(params / 1e6, 1) == PAPER_FIGURES[(alpha, 224)].params_millions
    assert params == count_params(mobilenet_v1(alpha, 224))
    # Every paper resolution is a multiple of 32, so each feature map is exactly (r/224)^2 the
    # size of the 224 one: conv multiply-adds scale exactly, the classifier's do not change.
    classifier = layers(arch)[-1].macs
    macs_224 = count_macs(mobilenet_v1(alpha, 224))
    assert (macs - classifier) * 224**2 == (macs_224 - classifier) * resolution**2


def test_paper_prints_290_and_291_for_1_0_160_and_both_are_within_one_percent() -> None:
    macs = count_macs(mobilenet_v1(1.0, 160)) / 1e6
    assert macs == pytest.approx(290, rel=0.01)
    assert macs == pytest.approx(291, rel=0.01)


def test_exact_counts_of_the_reference_network() -> None:
    arch = mobilenet_v1(1.0, 224)
    assert count_macs(arch) == 568_740_352
    assert count_params(arch) == 4_210_088


@pytest.mark.parametrize("alpha", PAPER_ALPHAS)
def test_widths_are_alpha_times_the_papers_without_rounding(alpha: float) -> None:
    arch = mobilenet_v1(alpha, 224)
    assert arch.stem_width == int(alpha * 32)
    assert [s.width for s in arch.stages] == [int(alpha * w) for w in (64, 128, 256, 512, 1024)]
    assert [s.depth for s in arch.stages] == [1, 2, 2, 6, 2]
    assert [s.stride for s in arch.stages] == [1, 2, 2, 2, 2]
    assert {s.kernel for s in arch.stages} == {3}
    # Final feature map 7x7 at 224, as in the paper's Table 1.
    assert layers(arch)[-1].in_size == 7


def test_names_follow_the_tensorflow_release() -> None:
    assert baseline_name(1.0, 224) == "mobilenet_v1_1.0_224"
    assert baseline_name(0.25, 128) == "mobilenet_v1_0.25_128"
    assert baseline_name(1, 160) == "mobilenet_v1_1.0_160"


@pytest.mark.parametrize("alpha", [0, -0.5, 4.5])
def test_bad_alpha_is_rejected(alpha: float) -> None:
    with pytest.raises(ValueError, match="alpha"):
        mobilenet_v1(alpha, 224)


def test_baseline_names_parse_for_any_alpha_and_task() -> None:
    from space import baseline_from_name, parse_arch_or_baseline

    assert parse_arch_or_baseline("mobilenet_v1_0.5_160") == mobilenet_v1(0.5, 160)
    assert baseline_from_name("mobilenet_v1_1.0_224", in_channels=1, num_classes=10) == (
        mobilenet_v1(1.0, 224, num_classes=10, in_channels=1)
    )
    text = mobilenet_v1(0.25, 128).to_str()
    assert baseline_from_name(text) is None
    assert parse_arch_or_baseline(text) == mobilenet_v1(0.25, 128)
    with pytest.raises(ValueError, match="unknown baseline name 'mobilenet_v1_x_224'"):
        parse_arch_or_baseline("mobilenet_v1_x_224")


# -- MobileNetV2 and V3 ----------------------------------------------------------------------------

V2_V3 = published_baselines("v2") + published_baselines("v3")
IDS = [b.name for b in V2_V3]


def test_published_grids() -> None:
    assert len(published_baselines("v1")) == 16
    assert len(published_baselines("v2")) == 22
    assert [b.name for b in published_baselines("v3")] == [
        "mobilenet_v3_large_1.0_224",
        "mobilenet_v3_large_0.75_224",
        "mobilenet_v3_small_1.0_224",
        "mobilenet_v3_small_0.75_224",
    ]
    assert {b.name for b in V2_V3} == set(REFERENCE_COUNTS)
    assert {b.name for b in V2_V3} <= set(PUBLISHED)


@pytest.mark.parametrize("baseline", V2_V3, ids=IDS)
def test_counts_equal_the_reference_implementation(baseline: Baseline) -> None:
    """Keras builds the same network: equal multiply-adds and parameters, to the unit."""
    arch = baseline.arch()
    assert (count_macs(arch), count_params(arch), count_trainable_params(arch)) == (
        REFERENCE_COUNTS[baseline.name]
    )


@pytest.mark.parametrize("baseline", V2_V3, ids=IDS)
def test_counts_against_the_published_figures(baseline: Baseline) -> None:
    arch = baseline.arch()
    macs, params = count_macs(arch) / 1e6, count_params(arch) / 1e6
    for figures in PUBLISHED[baseline.name]:
        assert figures.source in SOURCES
        off = max(abs(macs / figures.macs_millions - 1), abs(params / figures.params_millions - 1))
        if figures.note is None:
            assert macs == pytest.approx(figures.macs_millions, rel=0.02)
            if baseline.family == "v2":
                # TF-Slim prints parameters with two decimals: equal at that precision.
                assert round(params, 2) == figures.params_millions
            else:
                assert params == pytest.approx(figures.params_millions, rel=0.02)
        else:
            # A documented deviation must be a real one (else the note is stale).
            assert off > 0.02


def test_the_four_v2_deviations_are_its_smallest_networks() -> None:
    noted = {
        name
        for name, figures in PUBLISHED.items()
        if name.startswith("mobilenet_v2") and any(f.note for f in figures)
    }
    assert noted == {
        "mobilenet_v2_0.5_96",
        "mobilenet_v2_0.35_96",
        "mobilenet_v2_0.35_160",
        "mobilenet_v2_0.35_192",
    }


def test_no_resolution_independent_term_fits_both_smallest_v2_figures() -> None:
    """Why the deviations are TF-Slim's: convolution counts at 96 and 128 are in the ratio
    (128/96)^2 exactly, and no constant c makes conv + c within 2 % of both 11M and 20M."""
    convs = {}
    for resolution in (96, 128):
        arch = mobilenet_v2(0.35, resolution)
        convs[resolution] = count_macs(arch) - layers(arch)[-1].macs
    assert convs[128] * 96**2 == convs[96] * 128**2
    # conv_96 + c <= 1.02 * 11e6 and conv_128 + c >= 0.98 * 20e6 cannot both hold.
    assert 1.02 * 11e6 - convs[96] < 0.98 * 20e6 - convs[128]


@pytest.mark.parametrize("alpha", V2_ALPHAS)
def test_v2_structure(alpha: float) -> None:
    arch = mobilenet_v2(alpha, 224)
    assert arch.head_width == (1280 if alpha <= 1 else make_divisible(1280 * alpha))
    assert [s.depth for s in arch.stages] == [1, 2, 3, 4, 3, 3, 1]
    assert [s.expansion for s in arch.stages] == [1, 6, 6, 6, 6, 6, 6]
    assert arch.activations == ("relu6",) and arch.total_stride == 32
    walk = blocks(arch)
    # Residuals: every block after the first of a stage; the first stage's block has none.
    assert sum(block.residual for block in walk) == 10
    assert walk[-1].in_size == 7
    # The expansion-1 block has no expansion conv.
    assert [layer.kind for layer in walk[1].layers] == ["depthwise", "project"]


@pytest.mark.parametrize("variant", ["large", "small"])
@pytest.mark.parametrize("alpha", [1.0, 0.75])
def test_v3_structure(variant: str, alpha: float) -> None:
    arch = mobilenet_v3(variant, alpha, 224)
    last = arch.stages[-1].width
    assert arch.head_width == 6 * last
    assert arch.head_hidden == {"large": 1280, "small": 1024}[variant]
    assert arch.stem_width == 16 and arch.stem_activation == "hswish"
    se_layers = [layer for layer in layers(arch) if layer.kind == "se"]
    assert se_layers and all(
        layer.params
        == 2 * layer.in_channels * se_width(layer.in_channels)
        + se_width(layer.in_channels)
        + layer.in_channels
        for layer in se_layers
    )
    # MobileNetV3-Large's widths at 1.0 (the paper's Table 1): middle widths of every block.
    if (variant, alpha) == ("large", 1.0):
        mids = [block.mid_channels for block in blocks(arch) if block.kind == "ir"]
        assert mids == [16, 64, 72, 72, 120, 120, 240, 200, 184, 184, 480, 672, 672, 960, 960]
        assert [se_width(m) for m in (72, 120, 480, 672, 960)] == [24, 32, 120, 168, 240]


def test_reference_counts_are_the_committed_keras_output() -> None:
    path = Path(__file__).resolve().parents[2] / "results" / "space" / "keras_reference.json"
    data = json.loads(path.read_text())
    assert data["keras"] == "3.6.0"
    assert {name: tuple(counts) for name, counts in data["counts"].items()} == REFERENCE_COUNTS


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("mobilenet_v2_1.0_224", mobilenet_v2(1.0, 224)),
        ("mobilenet_v2_0.35_96", mobilenet_v2(0.35, 96)),
        ("mobilenet_v3_large_1.0_224", mobilenet_v3("large", 1.0, 224)),
        ("mobilenet_v3_small_0.75_160", mobilenet_v3("small", 0.75, 160)),
    ],
)
def test_v2_v3_names_parse(name: str, expected: Arch) -> None:
    assert parse_arch_or_baseline(name) == expected
    assert baseline_from_name(name, in_channels=1, num_classes=10) == (
        dataclasses.replace(expected, in_channels=1, num_classes=10)
    )


@pytest.mark.parametrize(
    "bad", ["mobilenet_v3_1.0_224", "mobilenet_v3_tiny_1.0_224", "mobilenet_v4_1.0_224"]
)
def test_bad_names_list_the_accepted_forms(bad: str) -> None:
    with pytest.raises(ValueError, match=rf"unknown baseline name '{bad}': expected .*v3_<large"):
        parse_arch_or_baseline(bad)


def test_baseline_values_are_checked() -> None:
    assert Baseline("v3", 0.75, 224, "small").name == "mobilenet_v3_small_0.75_224"
    with pytest.raises(ValueError, match="unknown family 'v4'"):
        Baseline("v4", 1.0, 224)
    with pytest.raises(ValueError, match="variants"):
        Baseline("v3", 1.0, 224)
    with pytest.raises(ValueError, match="variants"):
        Baseline("v2", 1.0, 224, "large")
    with pytest.raises(ValueError, match="alpha"):
        mobilenet_v2(0, 224)
