"""The 16 MobileNetV1 variants against the paper's Tables 6 and 7 (Howard et al. 2017)."""

from __future__ import annotations

import itertools

import pytest

from space import PAPER_FIGURES, baseline_name, count_macs, count_params, mobilenet_v1
from space.baselines import PAPER_ALPHAS, PAPER_RESOLUTIONS
from space.layers import layers

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
