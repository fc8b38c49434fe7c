"""`Arch` values: strict string form with round trip, clear parse errors, channel rounding."""

from __future__ import annotations

import dataclasses
import math
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from space import Arch, Stage, make_divisible, mobilenet_v1, mobilenet_v2, mobilenet_v3
from space.arch import ACTIVATIONS, format_decimal

MOBILENET_V1_1_0_224 = (
    "stem_r224_i3_c32:ds_r1_k3_s1_c64:ds_r2_k3_s2_c128:ds_r2_k3_s2_c256:"
    "ds_r6_k3_s2_c512:ds_r2_k3_s2_c1024:head_n1000"
)

positive = st.integers(min_value=1, max_value=100_000)
activations = st.sampled_from(ACTIVATIONS)
kernels = st.integers(min_value=0, max_value=15).map(lambda k: 2 * k + 1)
ds_stages = st.builds(
    Stage,
    width=st.integers(min_value=1, max_value=8192),
    depth=st.integers(min_value=1, max_value=32),
    kernel=kernels,
    stride=st.sampled_from((1, 2)),
    activation=activations,
)
# Expansions with up to two decimals, 1 to 16: the values the string form can print exactly.
expansions = st.integers(min_value=100, max_value=1600).map(lambda e: e / 100)
ir_stages = st.builds(
    Stage,
    width=st.integers(min_value=1, max_value=8192),
    depth=st.integers(min_value=1, max_value=32),
    kernel=kernels,
    stride=st.sampled_from((1, 2)),
    block=st.just("ir"),
    expansion=expansions,
    se=st.booleans(),
    activation=activations,
)
stages = st.one_of(ds_stages, ir_stages)


@st.composite
def archs(draw: st.DrawFn) -> Arch:
    """Any architecture: either block type, any stem stride and activation, any head form."""
    head_width = draw(st.none() | st.integers(min_value=1, max_value=4096))
    head_hidden = draw(st.none() | st.integers(min_value=1, max_value=4096))
    has_head_layer = head_width is not None or head_hidden is not None
    return Arch(
        resolution=draw(positive),
        in_channels=draw(st.integers(min_value=1, max_value=64)),
        num_classes=draw(positive),
        stem_width=draw(st.integers(min_value=1, max_value=8192)),
        stages=tuple(draw(st.lists(stages, min_size=1, max_size=10))),
        stem_stride=draw(st.sampled_from((1, 2))),
        stem_activation=draw(activations),
        head_width=head_width,
        head_hidden=head_hidden,
        head_activation=draw(activations) if has_head_layer else "relu",
    )


@given(archs())
def test_string_round_trip(arch: Arch) -> None:
    text = arch.to_str()
    assert Arch.parse(text) == arch
    assert str(arch) == text
    # One line, shell-safe: nothing a shell would split or expand ('.' only in expansions).
    assert all(ch.isascii() and (ch.isalnum() or ch in "_:.") for ch in text)
    assert Arch.parse(text).to_str() == text


@given(archs(), st.randoms(use_true_random=False))
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


# Strings as committed results and old runs wrote them (results/example-run/trials.jsonl).
COMMITTED_V1_STRINGS = [
    "stem_r128_i1_c8:ds_r1_k3_s1_c16:ds_r1_k3_s2_c32:ds_r1_k3_s2_c64:ds_r2_k3_s2_c128:"
    "ds_r1_k3_s2_c256:head_n10",
    "stem_r192_i1_c24:ds_r2_k7_s1_c40:ds_r3_k5_s2_c96:ds_r1_k7_s2_c160:ds_r4_k3_s2_c384:"
    "ds_r2_k5_s2_c1024:head_n10",
    "stem_r224_i3_c32:ds_r1_k3_s1_c64:ds_r2_k3_s2_c128:ds_r2_k3_s2_c256:ds_r6_k3_s2_c512:"
    "ds_r2_k3_s2_c1024:head_n1000",
]


def v1_printer(arch: Arch) -> str:
    """The printer of the MobileNetV1-only grammar, before inverted residuals existed."""
    stem = f"stem_r{arch.resolution}_i{arch.in_channels}_c{arch.stem_width}"
    body = ":".join(f"ds_r{s.depth}_k{s.kernel}_s{s.stride}_c{s.width}" for s in arch.stages)
    return f"{stem}:{body}:head_n{arch.num_classes}"


@pytest.mark.parametrize("text", COMMITTED_V1_STRINGS)
def test_committed_v1_strings_parse_to_v1_networks_and_print_the_same(text: str) -> None:
    arch = Arch.parse(text)
    assert arch.to_str() == text == v1_printer(arch)
    assert arch.block_types == ("ds",)
    assert arch.activations == ("relu",)
    assert (arch.stem_stride, arch.head_width, arch.head_hidden) == (2, None, None)


@given(st.lists(ds_stages.map(lambda s: dataclasses.replace(s, activation="relu")), min_size=1))
def test_every_v1_grammar_arch_prints_as_the_v1_printer_did(v1_stages: list[Stage]) -> None:
    arch = Arch(resolution=96, in_channels=3, num_classes=7, stem_width=24, stages=tuple(v1_stages))
    assert arch.to_str() == v1_printer(arch)
    assert Arch.parse(v1_printer(arch)) == arch


def test_defaults_may_be_spelled_out_and_print_canonically() -> None:
    explicit = "stem_r224_i3_c32_s2_relu:ds_r1_k3_s1_c64_relu:head_n10"
    assert Arch.parse(explicit).to_str() == "stem_r224_i3_c32:ds_r1_k3_s1_c64:head_n10"
    assert Arch.parse("stem_relu_c32_i3_r224:ir_relu_se_c16_e6_s1_k3_r2:head_n10").to_str() == (
        "stem_r224_i3_c32:ir_r2_k3_s1_e6_c16_se:head_n10"
    )


def test_mobilenet_v2_and_v3_strings_are_canonical() -> None:
    v2 = (
        "stem_r224_i3_c32_relu6:ir_r1_k3_s1_e1_c16_relu6:ir_r2_k3_s2_e6_c24_relu6:"
        "ir_r3_k3_s2_e6_c32_relu6:ir_r4_k3_s2_e6_c64_relu6:ir_r3_k3_s1_e6_c96_relu6:"
        "ir_r3_k3_s2_e6_c160_relu6:ir_r1_k3_s1_e6_c320_relu6:head_c1280_n1000_relu6"
    )
    large = (
        "stem_r224_i3_c16_hswish:ir_r1_k3_s1_e1_c16:ir_r1_k3_s2_e4_c24:ir_r1_k3_s1_e3_c24:"
        "ir_r3_k5_s2_e3_c40_se:ir_r1_k3_s2_e6_c80_hswish:ir_r1_k3_s1_e2.5_c80_hswish:"
        "ir_r2_k3_s1_e2.3_c80_hswish:ir_r2_k3_s1_e6_c112_se_hswish:"
        "ir_r3_k5_s2_e6_c160_se_hswish:head_c960_h1280_n1000_hswish"
    )
    assert mobilenet_v2(1.0, 224).to_str() == v2
    assert mobilenet_v3("large", 1.0, 224).to_str() == large
    for text in (v2, large):
        assert Arch.parse(text).to_str() == text
    assert Arch.parse(v2).block_types == ("ir",)
    assert Arch.parse(v2).activations == ("relu6",)
    assert Arch.parse(large).activations == ("relu", "hswish")
    assert Arch.parse(large).total_stride == 32


GOOD = MOBILENET_V1_1_0_224

# (bad string, a fragment the message must quote). Each message must also quote the whole string.
BAD_STRINGS = [
    ("", "''"),
    ("stem_r224_i3_c32:head_n10", "'stem_r224_i3_c32:head_n10'"),
    ("stem_r224_i3_c32", "'stem_r224_i3_c32'"),
    ("stem_r224_i3_c32:ds_r1_k3_s1_c64_z5:head_n10", "'z5'"),
    ("stem_r224_i3_c32:ds_r1_k3_s1_c64:head_n10_k3", "'k3'"),
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
    # The inverted-residual grammar.
    ("stem_r224_i3_c32:ir_r1_k3_s1_c16:head_n10", "is missing e"),
    ("stem_r224_i3_c32:ir_r1_k3_s1_e0.5_c16:head_n10", "'e0.5'"),
    ("stem_r224_i3_c32:ir_r1_k3_s1_e6.0_c16:head_n10", "'e6.0'"),
    ("stem_r224_i3_c32:ir_r1_k3_s1_e2.345_c16:head_n10", "'e2.345'"),
    ("stem_r224_i3_c32:ir_r1_k3_s1_e6._c16:head_n10", "'e6.'"),
    ("stem_r224_i3_c32:ir_r1_k3_s1_e17_c16:head_n10", "expansion must be a number in [1, 16]"),
    ("stem_r224_i3_c32:ir_r1_k3_s1_e6_c16_se_se:head_n10", "'se' given twice"),
    ("stem_r224_i3_c32:ir_r1_k3_s1_e6_c16_relu6_hswish:head_n10", "'hswish'"),
    ("stem_r224_i3_c32:ir_r1_k3_s1_e6_c16_gelu:head_n10", "'gelu'"),
    ("stem_r224_i3_c32:ir_r1_k3_s1_e6_c16_SE:head_n10", "'SE'"),
    ("stem_r224_i3_c32:ir_r1_k3_s1_e6_c16_se1:head_n10", "'se1'"),
    ("stem_r224_i3_c32:ds_r1_k3_s1_c16_se:head_n10", "'se'"),
    ("stem_r224_i3_c32:ds_r1_k3_s1_e6_c16:head_n10", "'e6'"),
    ("stem_r224_i3_c32_s3:ds_r1_k3_s1_c16:head_n10", "stem stride must be one of"),
    ("stem_r224_i3_c32_s2_s1:ds_r1_k3_s1_c16:head_n10", "'s1'"),
    ("stem_r224_i3_c32_relu_relu6:ds_r1_k3_s1_c16:head_n10", "'relu6'"),
    ("stem_r224_i3_c32:ds_r1_k3_s1_c16:head_n10_hswish", "needs a head conv or hidden layer"),
    ("stem_r224_i3_c32:ds_r1_k3_s1_c16:head_c0_n10", "'c0'"),
    ("stem_r224_i3_c32:ds_r1_k3_s1_c16:head_h1280_h640_n10", "'h640'"),
    ("stem_r224_i3_c32:ds_r1_k3_s1_c16:head_c960_h1280_hswish", "is missing n"),
    ("stem_r224_i3_c32:irr_r1_k3_s1_e6_c16:head_n10", "'irr_r1_k3_s1_e6_c16'"),
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


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"block": "mb"}, "unknown block type 'mb'"),
        ({"block": "ir", "expansion": 0.5}, "expansion must be a number in [1, 16]"),
        ({"block": "ir", "expansion": 2.345}, "at most two decimals, got 2.345"),
        ({"block": "ir", "expansion": float("nan")}, "expansion"),
        ({"block": "ir", "expansion": True}, "expansion"),
        ({"block": "ir", "expansion": 6, "se": 1}, "se must be True or False"),
        ({"expansion": 6}, "a 'ds' stage has no expansion or squeeze-excite"),
        ({"se": True}, "a 'ds' stage has no expansion or squeeze-excite"),
        ({"activation": "gelu"}, "unknown stage activation 'gelu'"),
    ],
)
def test_stage_validates_block_fields(kwargs: dict[str, object], fragment: str) -> None:
    with pytest.raises(ValueError, match=re.escape(fragment)):
        Stage(width=8, depth=1, kernel=3, stride=1, **kwargs)  # type: ignore[arg-type]


def test_expansion_is_stored_as_a_float_and_printed_exactly() -> None:
    stage = Stage(width=8, depth=1, kernel=3, stride=1, block="ir", expansion=6)
    assert isinstance(stage.expansion, float) and stage.to_str() == "ir_r1_k3_s1_e6_c8"
    assert [format_decimal(e) for e in (1.0, 2.5, 2.3, 3.67, 10.0, 16.0)] == [
        "1", "2.5", "2.3", "3.67", "10", "16"
    ]  # fmt: skip


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
    fields = {"resolution": 32, "in_channels": 3, "num_classes": 10, "stem_width": 8}
    with pytest.raises(ValueError, match="stem stride must be one of"):
        Arch(**fields, stages=(stage,), stem_stride=4)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown stem activation 'tanh'"):
        Arch(**fields, stages=(stage,), stem_activation="tanh")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="head_width must be a positive integer"):
        Arch(**fields, stages=(stage,), head_width=0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="head activation 'relu6' needs a head conv"):
        Arch(**fields, stages=(stage,), head_activation="relu6")  # type: ignore[arg-type]


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
