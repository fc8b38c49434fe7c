"""`Arch` values: strict string form with round trip, clear parse errors, channel rounding."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from space import Arch, Stage, make_divisible, mobilenet_v1

MOBILENET_V1_1_0_224 = (
    "stem_r224_i3_c32:ds_r1_k3_s1_c64:ds_r2_k3_s2_c128:ds_r2_k3_s2_c256:"
    "ds_r6_k3_s2_c512:ds_r2_k3_s2_c1024:head_n1000"
)

positive = st.integers(min_value=1, max_value=100_000)
stages = st.builds(
    Stage,
    width=st.integers(min_value=1, max_value=8192),
    depth=st.integers(min_value=1, max_value=32),
    kernel=st.integers(min_value=0, max_value=15).map(lambda k: 2 * k + 1),
    stride=st.sampled_from((1, 2)),
)
archs = st.builds(
    Arch,
    resolution=positive,
    in_channels=st.integers(min_value=1, max_value=64),
    num_classes=positive,
    stem_width=st.integers(min_value=1, max_value=8192),
    stages=st.lists(stages, min_size=1, max_size=10).map(tuple),
)


@given(archs)
def test_string_round_trip(arch: Arch) -> None:
    text = arch.to_str()
    assert Arch.parse(text) == arch
    assert str(arch) == text
    # One line, shell-safe: nothing a shell would split or expand.
    assert all(ch.isalnum() or ch in "_:" for ch in text)


@given(archs, st.randoms(use_true_random=False))
def test_keys_in_any_order_parse_to_the_same_arch(arch: Arch, random: object) -> None:
    shuffled = []
    for block in arch.to_str().split(":"):
        kind, *tokens = block.split("_")
        random.shuffle(tokens)  # type: ignore[attr-defined]
        shuffled.append("_".join([kind, *tokens]))
    assert Arch.parse(":".join(shuffled)) == arch


def test_mobilenet_v1_string_is_canonical() -> None:
    arch = mobilenet_v1(1.0, 224)
    assert arch.to_str() == MOBILENET_V1_1_0_224
    assert Arch.parse(MOBILENET_V1_1_0_224) == arch
    assert arch.depth == 13


GOOD = MOBILENET_V1_1_0_224

# (bad string, a fragment the message must quote). Each message must also quote the whole string.
BAD_STRINGS = [
    ("", "''"),
    ("stem_r224_i3_c32:head_n10", "'stem_r224_i3_c32:head_n10'"),
    ("stem_r224_i3_c32", "'stem_r224_i3_c32'"),
    ("stem_r224_i3_c32:ds_r1_k3_s1_c64_z5:head_n10", "'z5'"),
    ("stem_r224_i3_c32:ds_r1_k3_s1_c64:head_n10_c3", "'c3'"),
    ("stem_r224_i3_c32_k3:ds_r1_k3_s1_c64:head_n10", "'k3'"),
    ("stem_r224_i3_c32:ds_r1_k3_s1_c64:head_n10:", "''"),
    ("stem_r224_i3_c32::head_n10", "''"),
    ("stem_r224_i3_c32:ds_r1__k3_s1_c64:head_n10", "''"),
    ("stem_r224_i3_c32:xs_r1_k3_s1_c64:head_n10", "'xs_r1_k3_s1_c64'"),
    ("stem_r224_i3_c32:ds_r1_k3_s1_c64:tail_n10", "'tail_n10'"),
    ("STEM_r224_i3_c32:ds_r1_k3_s1_c64:head_n10", "'STEM_r224_i3_c32'"),
    ("ds_r1_k3_s1_c64:stem_r224_i3_c32:head_n10", "'ds_r1_k3_s1_c64'"),
    ("stem_r224_i3_c32:ds_r0_k3_s1_c64:head_n10", "'r0'"),
    ("stem_r224_i3_c32:ds_r01_k3_s1_c64:head_n10", "'r01'"),
    ("stem_r224_i3_c32:ds_r-1_k3_s1_c64:head_n10", "'r-1'"),
    ("stem_r224_i3_c32:ds_r1.5_k3_s1_c64:head_n10", "'r1.5'"),
    ("stem_r224_i3_c32:ds_rx_k3_s1_c64:head_n10", "'rx'"),
    ("stem_r224_i3_c32:ds_r_k3_s1_c64:head_n10", "'r'"),
    ("stem_r224_i3_c32:ds_r1_k3_s1_c64:head_n1e3", "'n1e3'"),
    ("stem_r224_i3_c32:ds_r1_k3_s1_c+64:head_n10", "'c+64'"),
    ("stem_r２２４_i3_c32:ds_r1_k3_s1_c64:head_n10", "'r２２４'"),
    ("stem_r224 _i3_c32:ds_r1_k3_s1_c64:head_n10", "'r224 '"),
    ("stem_r224_i3_c32:ds_r1_r2_k3_s1_c64:head_n10", "'r2'"),
    ("stem_r224_i3_c32:ds_r1_s1_c64:head_n10", "'ds_r1_s1_c64'"),
    ("stem_r224_c32:ds_r1_k3_s1_c64:head_n10", "'stem_r224_c32'"),
    ("stem_r224_i3_c32:ds_r1_k3_s1_c64:head", "'head'"),
    ("stem_r224_i3_c32:ds_r1_k4_s1_c64:head_n10", "'ds_r1_k4_s1_c64'"),
    ("stem_r224_i3_c32:ds_r1_k3_s3_c64:head_n10", "'ds_r1_k3_s3_c64'"),
    ("stem_r224_i3_c32:ds_R1_k3_s1_c64:head_n10", "'R1'"),
    (GOOD.replace(":", ";"), repr(GOOD.replace(":", ";"))),
    (GOOD.replace("_", "-"), "'stem-r224-i3-c32'"),
]


@pytest.mark.parametrize(("text", "fragment"), BAD_STRINGS)
def test_bad_strings_raise_value_error_quoting_token_and_string(text: str, fragment: str) -> None:
    with pytest.raises(ValueError) as info:
        Arch.parse(text)
    message = str(info.value)
    assert fragment in message
    assert repr(text.strip()) in message or repr(text) in message
    assert "\n" not in message


def test_parse_rejects_non_strings() -> None:
    with pytest.raises(TypeError, match="must be a str"):
        Arch.parse(123)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"width": 0, "depth": 1, "kernel": 3, "stride": 1}, "width"),
        ({"width": 8, "depth": 0, "kernel": 3, "stride": 1}, "depth"),
        ({"width": 8, "depth": 1, "kernel": 4, "stride": 1}, "odd"),
        ({"width": 8, "depth": 1, "kernel": 3, "stride": 3}, "stride"),
        ({"width": 8.0, "depth": 1, "kernel": 3, "stride": 1}, "width"),
        ({"width": True, "depth": 1, "kernel": 3, "stride": 1}, "width"),
    ],
)
def test_stage_validates_fields(kwargs: dict[str, object], fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        Stage(**kwargs)  # type: ignore[arg-type]


def test_arch_validates_fields() -> None:
    stage = Stage(width=8, depth=1, kernel=3, stride=1)
    with pytest.raises(ValueError, match="resolution"):
        Arch(resolution=0, in_channels=3, num_classes=10, stem_width=8, stages=(stage,))
    with pytest.raises(ValueError, match="non-empty tuple"):
        Arch(resolution=32, in_channels=3, num_classes=10, stem_width=8, stages=())
    with pytest.raises(ValueError, match="non-empty tuple"):
        Arch(resolution=32, in_channels=3, num_classes=10, stem_width=8, stages=[stage])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="Stage"):
        Arch(resolution=32, in_channels=3, num_classes=10, stem_width=8, stages=("ds",))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1, 8),
        (4, 8),
        (8, 8),
        (9.6, 16),  # nearest is 8, but 8 < 0.9 * 9.6: bumped up
        (12, 16),  # a tie rounds up
        (16, 16),
        (19, 24),  # nearest is 16 < 17.1: bumped up
        (20, 24),
        (24, 24),
        (35, 32),  # 32 >= 31.5: nearest stands
        (36, 40),
        (0.75 * 32, 24),
        (0.25 * 1024, 256),
        (0.375 * 64, 24),
        (0.625 * 32, 24),
        (1000, 1000),
    ],
)
def test_make_divisible_table(value: float, expected: int) -> None:
    assert make_divisible(value) == expected


@given(st.floats(min_value=0.01, max_value=1e6), st.sampled_from((1, 2, 4, 8, 16)))
def test_make_divisible_is_nearest_multiple_never_ten_percent_below(
    value: float, divisor: int
) -> None:
    result = make_divisible(value, divisor)
    assert result % divisor == 0
    assert result >= divisor
    assert result >= 0.9 * value
    nearest = max(divisor, math.floor(value / divisor + 0.5) * divisor)
    assert result in (nearest, nearest + divisor)
    if result != nearest:
        assert nearest < 0.9 * value


@pytest.mark.parametrize("value", [0, -8, float("nan"), float("inf")])
def test_make_divisible_rejects_non_positive(value: float) -> None:
    with pytest.raises(ValueError, match="positive"):
        make_divisible(value)
