"""`SearchSpace`: config loading and errors, presets, sampling, Optuna mapping, baselines, size."""

from __future__ import annotations

import collections
import dataclasses
import itertools
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pytest

from space import Arch, SearchSpace, mobilenet_v1, mobilenet_v2, mobilenet_v3
from space.baselines import PAPER_ALPHAS, PAPER_RESOLUTIONS
from space.search_space import PRESETS, StageChoices
from tests.space.space_members import all_members

TINY_CONFIG = """
resolutions = [32, 64]
width_multipliers = [0.25, 0.3, 0.5]   # 0.3 and 0.5 round to the same stem width (16)
kernels = [3, 5]
depths = [[1], [1, 2], [1], [1], [1]]
in_channels = 1
num_classes = 10
"""


@pytest.fixture
def tiny_space(tmp_path: Path) -> SearchSpace:
    path = tmp_path / "tiny.toml"
    path.write_text(TINY_CONFIG)
    return SearchSpace.from_toml(path)


def test_default_space_matches_its_documented_file(default_space: SearchSpace) -> None:
    assert default_space.resolutions == (128, 160, 192, 224)
    assert default_space.width_multipliers == (0.25, 0.375, 0.5, 0.625, 0.75, 1.0)
    assert {stage.kernels for stage in default_space.stages} == {(3, 5, 7)}
    assert [stage.depths for stage in default_space.stages] == [
        (1, 2), (1, 2, 3), (1, 2, 3), (2, 3, 4, 5, 6), (1, 2)
    ]  # fmt: skip
    assert [stage.width for stage in default_space.stages] == [64, 128, 256, 512, 1024]
    assert {(s.blocks, s.activations) for s in default_space.stages} == {(("ds",), ("relu",))}
    assert (default_space.stem.width, default_space.stem.stride) == (32, 2)
    assert default_space.head.widths == default_space.head.hidden == ()
    assert default_space.family == "v1"
    assert (default_space.in_channels, default_space.num_classes) == (3, 1000)
    assert default_space.stem_widths() == (8, 16, 24, 32)
    assert default_space.stage_widths(4) == (256, 384, 512, 640, 768, 1024)
    assert [stage.stride for stage in default_space.stages] == [1, 2, 2, 2, 2]


def test_default_space_size(default_space: SearchSpace) -> None:
    # 4 resolutions x 4 stem widths x per stage (6 widths x depths x 3 kernels).
    expected = 4 * 4 * (6**5) * (3**5) * (2 * 3 * 3 * 5 * 2)
    assert default_space.size() == expected == 5_441_955_840
    assert default_space.log10_size() == pytest.approx(np.log10(expected))


def test_size_equals_a_brute_force_count(tiny_space: SearchSpace) -> None:
    distinct = all_members(tiny_space)
    assert tiny_space.size() == len(distinct)
    assert len(distinct) < 2 * 3**6 * 2 * 2**5  # rounding merged some choices
    assert all(tiny_space.contains(arch) for arch in itertools.islice(distinct, 200))


MIXED_CONFIG = """
family = "v2"
resolutions = [32, 64]
width_multipliers = [0.5, 1.0]

[stem]
width = 16
activations = ["relu", "hswish"]

[head]
widths = [64, 96]
hidden = [128]
activations = ["relu6", "hswish"]

[[stages]]
blocks = ["ds", "ir"]
width = 16
stride = 1
depths = [1, 2]
kernels = [3, 5]
expansions = [1, 3, 6]
se = [false, true]
activations = ["relu", "relu6"]

[[stages]]
blocks = ["ir"]
width = 24
stride = 2
depths = [1]
kernels = [3]
expansions = [2.5, 4]
activations = ["hswish"]
"""


@pytest.fixture
def mixed_space(tmp_path: Path) -> SearchSpace:
    """Both block types, conditional choices, a head with a conv and a hidden layer."""
    path = tmp_path / "mixed.toml"
    path.write_text(MIXED_CONFIG)
    return SearchSpace.from_toml(path)


def test_mixed_space_size_equals_a_brute_force_count(mixed_space: SearchSpace) -> None:
    distinct = all_members(mixed_space)
    # resolutions 2 x stem (widths 8, 16) x 2 acts x stage 1: widths (8, 16) x depths 2 x
    # kernels 2 x acts 2 x (ds + 3 expansions x 2 se) x stage 2: widths (16, 24) x 2 expansions
    # x head: 2 widths x 2 acts.
    assert mixed_space.size() == 2 * 2 * 2 * (2 * 2 * 2 * 2 * 7) * (2 * 2) * (2 * 2)
    assert mixed_space.size() == len(distinct)
    assert {arch.stages[0].block for arch in distinct} == {"ds", "ir"}
    assert all(mixed_space.contains(arch) for arch in distinct)
    for arch in itertools.islice(distinct, 300):
        assert mixed_space.from_params(mixed_space.to_params(arch)) == arch


def test_conditional_parameters(mixed_space: SearchSpace) -> None:
    choices = mixed_space.param_choices()
    assert list(choices) == [
        "resolution", "stem_width", "stem_act",
        "s1_block", "s1_width", "s1_depth", "s1_kernel", "s1_expansion", "s1_se", "s1_act",
        "s2_width", "s2_depth", "s2_kernel", "s2_expansion",
        "head_width", "head_act",
    ]  # fmt: skip
    assert choices["s1_expansion"] == (1.0, 3.0, 6.0)
    assert choices["s1_se"] == (False, True)
    ds_arch = next(a for a in all_members(mixed_space) if a.stages[0].block == "ds")
    params = mixed_space.to_params(ds_arch)
    assert "s1_expansion" not in params and "s1_se" not in params
    with pytest.raises(ValueError, match=r"s1_se=True does not apply: .*that stage is 'ds'"):
        mixed_space.from_params({**params, "s1_se": True})
    with pytest.raises(ValueError, match="missing parameter 's1_expansion'"):
        mixed_space.from_params({**params, "s1_block": "ir"})
    with pytest.raises(ValueError, match=r"bogus=1 does not apply: expected only resolution"):
        mixed_space.from_params({**params, "bogus": 1})
    # The se flag is a bool: 1 is not True.
    ir_params = {**params, "s1_block": "ir", "s1_expansion": 3.0, "s1_se": 1}
    with pytest.raises(ValueError, match=r"s1_se=1 is not in the space"):
        mixed_space.from_params(ir_params)


def test_an_optuna_study_explores_conditional_choices(mixed_space: SearchSpace) -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=0, n_startup_trials=5))
    seen = []
    for _ in range(30):
        trial = study.ask()
        arch = mixed_space.suggest(trial)
        assert mixed_space.contains(arch)
        assert mixed_space.from_params(dict(trial.params)) == arch
        seen.append(arch)
        study.tell(trial, float(arch.stages[0].depth))
    assert {arch.stages[0].block for arch in seen} == {"ds", "ir"}


def test_sample_is_deterministic_per_seed_and_always_a_member(default_space: SearchSpace) -> None:
    first = [default_space.sample(np.random.default_rng(7)) for _ in range(3)]
    assert len(set(first)) == 1  # a fresh generator with one seed gives one architecture
    rng_a, rng_b = np.random.default_rng(123), np.random.default_rng(123)
    seq_a = [default_space.sample(rng_a) for _ in range(200)]
    seq_b = [default_space.sample(rng_b) for _ in range(200)]
    assert seq_a == seq_b
    assert len(set(seq_a)) == 200
    other = [default_space.sample(np.random.default_rng(124)) for _ in range(1)]
    assert other[0] != seq_a[0]
    assert all(default_space.contains(arch) for arch in seq_a)
    assert all(isinstance(arch.stem_width, int) for arch in seq_a)


def test_v1_samples_are_the_ones_seeded_runs_drew(default_space: SearchSpace) -> None:
    """Decisions with one choice draw nothing: seeded V1 samples did not change."""
    rng = np.random.default_rng(2024)
    assert [default_space.sample(rng).to_str() for _ in range(2)] == [
        "stem_r128_i3_c24:ds_r1_k3_s1_c16:ds_r3_k7_s2_c48:ds_r3_k3_s2_c256:ds_r6_k3_s2_c128:"
        "ds_r1_k7_s2_c256:head_n1000",
        "stem_r160_i3_c16:ds_r1_k5_s1_c24:ds_r2_k7_s2_c96:ds_r2_k5_s2_c64:ds_r2_k3_s2_c384:"
        "ds_r1_k7_s2_c512:head_n1000",
    ]
    assert default_space.with_task(1, 10).sample(np.random.default_rng(7)).to_str() == (
        "stem_r224_i1_c24:ds_r2_k5_s1_c48:ds_r3_k3_s2_c96:ds_r1_k3_s2_c64:ds_r6_k3_s2_c512:"
        "ds_r2_k3_s2_c512:head_n10"
    )


def test_sample_is_uniform_over_mixed_architectures(mixed_space: SearchSpace) -> None:
    small = dataclasses.replace(
        mixed_space,
        resolutions=(32,),
        width_multipliers=(1.0,),
        stem=dataclasses.replace(mixed_space.stem, activations=("relu",)),
        stages=(
            dataclasses.replace(mixed_space.stages[0], depths=(1,), kernels=(3,)),
            dataclasses.replace(mixed_space.stages[1], expansions=(4.0,)),
        ),
        head=dataclasses.replace(mixed_space.head, widths=(64,), activations=("hswish",)),
    )
    # Stage 1: 2 activations x (ds + 3 expansions x 2 se) = 14 architectures.
    assert small.size() == 14 == len(all_members(small))
    rng = np.random.default_rng(0)
    counts = collections.Counter(small.sample(rng) for _ in range(14 * 200))
    assert len(counts) == 14
    # Binomial(2800, 1/14): mean 200, sd 13.6; these bounds are > 5 sd wide.
    assert min(counts.values()) > 130 and max(counts.values()) < 270


def test_sample_is_uniform_over_distinct_architectures(tmp_path: Path) -> None:
    path = tmp_path / "small.toml"
    path.write_text(
        "resolutions = [32, 64]\nwidth_multipliers = [0.25, 0.3]\nkernels = [3]\n"
        "depths = [[1], [1], [1], [1], [1, 2]]\n"
    )
    space = SearchSpace.from_toml(path)
    # Stem widths 8 and 16; stage widths all distinct: 2 * 2 * 2**5 * 2 = 256 architectures.
    assert space.size() == 256
    rng = np.random.default_rng(0)
    counts = collections.Counter(space.sample(rng) for _ in range(256 * 60))
    assert len(counts) == 256
    # Binomial(15360, 1/256): mean 60, sd 7.7; these bounds are > 5 sd wide.
    assert min(counts.values()) > 20 and max(counts.values()) < 100


@pytest.mark.parametrize("preset", list(PRESETS))
def test_suggest_with_fixed_trial_equals_from_params(preset: str) -> None:
    space = SearchSpace.preset(preset)
    rng = np.random.default_rng(3)
    for _ in range(20):
        arch = space.sample(rng)
        params = space.to_params(arch)
        assert space.suggest(optuna.trial.FixedTrial(params)) == arch
        assert space.from_params(params) == arch


@pytest.mark.parametrize("preset", list(PRESETS))
def test_enqueued_baselines_come_back_from_an_optuna_study(preset: str) -> None:
    space = SearchSpace.preset(preset)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    baselines = [arch for _, arch in space.baselines()[:3]]
    for arch in baselines:
        study.enqueue_trial(space.to_params(arch))
    asked = []
    for _ in baselines:
        trial = study.ask()
        asked.append(space.suggest(trial))
        study.tell(trial, 0.0)
    assert asked == baselines
    # A further (random) trial is still a member.
    assert space.contains(space.suggest(study.ask()))


def test_param_choices_names_and_values(default_space: SearchSpace) -> None:
    choices = default_space.param_choices()
    assert list(choices)[:2] == ["resolution", "stem_width"]
    assert len(choices) == 2 + 3 * 5
    assert choices["s4_depth"] == (2, 3, 4, 5, 6)
    assert choices["s5_width"] == default_space.stage_widths(4)
    for values in choices.values():
        assert all(type(v) is int for v in values)  # Optuna-storable, no numpy scalars
    for preset in PRESETS:
        for values in SearchSpace.preset(preset).param_choices().values():
            assert all(type(v) in (int, float, bool, str) for v in values)


def test_to_params_round_trip(default_space: SearchSpace) -> None:
    rng = np.random.default_rng(11)
    for arch in [default_space.sample(rng) for _ in range(50)]:
        params = default_space.to_params(arch)
        assert set(params) == set(default_space.param_choices())
        assert default_space.from_params(params) == arch


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"resolution": 100}, "resolution=100"),
        ({"stem_width": 40}, "stem_width=40"),
        ({"s2_kernel": 9}, "s2_kernel=9"),
        ({"s4_depth": 7}, "s4_depth=7"),
        ({"s5_width": 1000}, "s5_width=1000"),
    ],
)
def test_from_params_rejects_choices_outside(
    default_space: SearchSpace, change: dict[str, int], fragment: str
) -> None:
    params = {**default_space.to_params(mobilenet_v1(1.0, 224)), **change}
    with pytest.raises(ValueError, match=rf"{fragment} is not in the space: expected one of \["):
        default_space.from_params(params)


def test_from_params_names_a_missing_parameter(default_space: SearchSpace) -> None:
    params = default_space.to_params(mobilenet_v1(1.0, 224))
    del params["s3_depth"]
    with pytest.raises(ValueError, match="missing parameter 's3_depth'"):
        default_space.from_params(params)


def test_to_params_rejects_non_members(default_space: SearchSpace) -> None:
    base = mobilenet_v1(1.0, 224)
    with pytest.raises(ValueError, match="input channels"):
        default_space.to_params(mobilenet_v1(1.0, 224, num_classes=10))
    with pytest.raises(ValueError, match="stages"):
        default_space.to_params(dataclasses.replace(base, stages=base.stages[:4]))
    strided = base.stages[0].__class__(width=64, depth=1, kernel=3, stride=2)
    with pytest.raises(ValueError, match="stride"):
        default_space.to_params(dataclasses.replace(base, stages=(strided, *base.stages[1:])))
    wide = dataclasses.replace(base, stem_width=48)
    with pytest.raises(ValueError, match="stem_width=48"):
        default_space.to_params(wide)
    assert not default_space.contains(wide)
    assert default_space.contains(base)


def test_all_sixteen_baselines_are_members(default_space: SearchSpace) -> None:
    found = dict(default_space.baselines())
    assert len(found) == 16
    for alpha, resolution in itertools.product(PAPER_ALPHAS, PAPER_RESOLUTIONS):
        name = f"mobilenet_v1_{alpha}_{resolution}"
        assert found[name] == mobilenet_v1(alpha, resolution)
        assert default_space.contains(found[name])


def test_baselines_follow_the_task_and_the_config(default_space: SearchSpace) -> None:
    task = default_space.with_task(in_channels=1, num_classes=10)
    assert len(task.baselines()) == 16
    assert all(arch.in_channels == 1 and arch.num_classes == 10 for _, arch in task.baselines())
    no_k3 = SearchSpace.from_dict({"kernels": [5, 7]})
    assert no_k3.baselines() == []
    two_res = dataclasses.replace(default_space, resolutions=(128, 160))
    assert len(two_res.baselines()) == 8


def test_partial_config_takes_the_other_keys_from_the_default(tmp_path: Path) -> None:
    path = tmp_path / "partial.toml"
    path.write_text("kernels = [3, 5]\n")
    space = SearchSpace.from_toml(path)
    assert {stage.kernels for stage in space.stages} == {(3, 5)}
    assert space.resolutions == SearchSpace.default().resolutions
    assert SearchSpace.from_dict(space.to_dict()) == space


def test_the_first_config_format_still_loads(first_format_space: dict[str, Any]) -> None:
    """run.json files of earlier runs hold the space in the format before [[stages]]."""
    legacy = first_format_space
    assert SearchSpace.from_dict(legacy) == SearchSpace.default().with_task(1, 10)


STAGE = "[[stages]]\nwidth = 8\ndepths = [1]\nkernels = [3]\n"
STAGE1 = STAGE + "stride = 1\n"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("resolution = [128]\n", "unknown key 'resolution'"),
        ("[space]\nkernels = [3]\n", "unknown key 'space'"),
        ("resolutions = [4]\n", "resolutions value 4 is out of bounds: expected ints in [8, 1024]"),
        (
            "resolutions = [16, 128]\n",
            "resolution 16 is below the total stride 32 of the stride schedule (stem 2, stages "
            "1, 2, 2, 2, 2): the last feature map would be smaller than 1x1",
        ),
        ("resolutions = [128.0]\n", "resolutions value 128.0 is out of bounds"),
        ("resolutions = []\n", "resolutions must be a non-empty list"),
        ("resolutions = 128\n", "resolutions must be a non-empty list"),
        ("resolutions = [128, 128]\n", "resolutions has duplicates"),
        ("width_multipliers = [0.0]\n", "width_multipliers value 0.0 is out of bounds"),
        ("width_multipliers = [5.0]\n", "width_multipliers value 5.0 is out of bounds"),
        ("width_multipliers = ['1.0']\n", "width_multipliers value '1.0' is out of bounds"),
        ("kernels = [4]\n", "kernels must be odd"),
        ("kernels = [13]\n", "kernels value 13 is out of bounds"),
        ("depths = [[1], [1], [1], [1]]\n", "depths needs one list per stage (5)"),
        ("depths = [[1], [1], [1], [1], [0]]\n", "depths[5] value 0 is out of bounds"),
        ("depths = [[1], [1], [1], [1], []]\n", "must be a non-empty list"),
        ("in_channels = 0\n", "in_channels must be a positive integer"),
        ("num_classes = true\n", "num_classes must be a positive integer"),
        ("kernels = [3\n", "is not valid TOML"),
        ('family = "v4"\n', "unknown family 'v4': expected one of v1, v2, v3"),
        ("[stem]\nstride = 3\n", "stem stride must be one of [1, 2], got 3"),
        ("[stem]\nwidht = 3\n", "unknown key 'widht' in [stem]: expected one of width"),
        ('[stem]\nactivations = ["gelu"]\n', "stem activations value 'gelu' is unknown"),
        ("[head]\nwidths = [0]\n", "head widths value 0 is out of bounds"),
        ('[head]\nactivations = ["hswish"]\n', "need head widths or hidden"),
        ("stem = 3\n", "stem must be a table, got 3"),
        ("[[stages]]\nwidth = 8\n", "stages[1] is missing stride, depths, kernels"),
        (
            "kernels = [3]\n[[stages]]\nwidth = 8\nstride = 1\ndepths = [1]\nkernels = [3]\n",
            "cannot be combined with [[stages]]",
        ),
        (STAGE1 + 'blocks = ["mb"]\n', "stages[1]: blocks value 'mb' is unknown"),
        (STAGE1 + 'blocks = ["ir"]\n', "stages[1]: a stage that allows 'ir' blocks needs"),
        (STAGE1 + "expansions = [6]\n", "expansions and se are choices of 'ir' blocks"),
        (STAGE1 + 'blocks = ["ir"]\nexpansions = [0.5]\n', "expansion must be a number in [1"),
        (STAGE1 + 'blocks = ["ir"]\nexpansions = [6]\nse = [1]\n', "se value 1 is not true"),
        (STAGE1 + "kernel = [3]\n", "unknown key 'kernel' in [stages[1]]"),
        (STAGE + "stride = 3\n", "stages[1]: stride must be one of [1, 2], got 3"),
        (STAGE1 + 'activations = ["relu", "relu"]\n', "stages[1]: activations has duplicates"),
        ("kernels = 3 3\n", "is not valid TOML"),
    ],
)
def test_bad_configs_are_one_line_value_errors(tmp_path: Path, text: str, fragment: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ValueError) as info:
        SearchSpace.from_toml(path)
    message = str(info.value)
    assert fragment in message
    assert str(path) in message
    assert "\n" not in message


def test_missing_unreadable_and_binary_configs(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"'.*nope\.toml' does not exist"):
        SearchSpace.from_toml(tmp_path / "nope.toml")
    with pytest.raises(ValueError, match="cannot read search space config"):
        SearchSpace.from_toml(tmp_path)
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe\x00kernels")
    with pytest.raises(ValueError, match="not UTF-8"):
        SearchSpace.from_toml(binary)


def test_space_is_a_value(default_space: SearchSpace) -> None:
    assert SearchSpace.default() == default_space
    assert hash(SearchSpace.default()) == hash(default_space)
    with pytest.raises(dataclasses.FrozenInstanceError):
        default_space.resolutions = (224,)  # type: ignore[misc]
    assert isinstance(Arch.parse(default_space.sample(np.random.default_rng(0)).to_str()), Arch)


def test_a_user_file_named_like_the_default_still_merges(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("default_space.toml").write_text("kernels = [3, 5]\n")
    space = SearchSpace.from_toml("default_space.toml")
    assert {stage.kernels for stage in space.stages} == {(3, 5)}
    with pytest.raises(ValueError, match="cfg: missing resolutions, width_multipliers, stages"):
        SearchSpace.from_dict({"kernels": [3]}, source="cfg", complete=True)


# -- presets and small resolutions ------------------------------------------------------------


def test_presets() -> None:
    assert SearchSpace.preset("v1") == SearchSpace.default()
    v2, v3 = SearchSpace.preset("v2"), SearchSpace.preset("v3")
    assert (v2.family, v3.family) == ("v2", "v3")
    assert v2.size() == 1_671_768_834_048
    assert v3.size() == 50_779_978_334_208
    assert [name for name, _ in v2.baselines()] == [
        f"mobilenet_v2_{alpha}_{resolution}"
        for alpha in (1.0, 0.75, 0.5, 0.35)
        for resolution in (128, 160, 192, 224)
    ]
    assert [name for name, _ in v3.baselines()] == [
        f"mobilenet_v3_large_{alpha}_{resolution}"
        for alpha in (1.0, 0.75)
        for resolution in (128, 160, 192, 224)
    ]
    assert dict(v2.baselines())["mobilenet_v2_0.5_160"] == mobilenet_v2(0.5, 160)
    assert dict(v3.baselines())["mobilenet_v3_large_0.75_224"] == mobilenet_v3("large", 0.75, 224)
    # MobileNetV3-Small has another stage layout.
    with pytest.raises(ValueError, match="has 7 stages; the space has 9"):
        v3.to_params(mobilenet_v3("small", 1.0, 224))
    for space in (v2, v3):
        assert SearchSpace.from_dict(space.to_dict()) == space
        assert space.with_task(1, 10).baselines()  # the family follows the task
    assert v2.param_choices()["s1_block"] == ("ir", "ds")
    assert v3.param_choices()["s7_expansion"] == (2.3, 3.0, 4.0, 6.0)
    assert v3.param_choices()["head_width"] == (720, 960)


def test_every_preset_file_documents_itself() -> None:
    for name, filename in PRESETS.items():
        text = (Path(__file__).resolve().parents[2] / "space" / filename).read_text()
        assert text.startswith("# hwnas"), name
        assert f'family = "{SearchSpace.preset(name).family}"' in text


def test_unknown_preset() -> None:
    with pytest.raises(ValueError, match="unknown preset 'v9': expected one of v1, v2, v3"):
        SearchSpace.preset("v9")


def test_small_resolutions_with_a_stride_1_stem(tmp_path: Path) -> None:
    """MobileNetV1's strides with a stride-1 stem, as used for 32-pixel data."""
    path = tmp_path / "cifar.toml"
    path.write_text("resolutions = [16, 24, 32]\n[stem]\nstride = 1\n")
    space = SearchSpace.from_toml(path)
    assert space.total_stride() == 16
    arch = space.sample(np.random.default_rng(0))
    assert arch.stem_stride == 1 and arch.to_str().split(":")[0].endswith("_s1")
    assert space.contains(arch)
    # MobileNetV1 with a stride-1 stem is in it: 32 px ends on a 2x2 feature map.
    v1 = dataclasses.replace(mobilenet_v1(0.5, 32), stem_stride=1)
    assert space.contains(v1)
    # The family's baselines are the published networks (stride-2 stem): not members here.
    assert space.baselines() == []
    tiny = StageChoices(width=16, stride=1, depths=(1,), kernels=(3,))
    assert SearchSpace(resolutions=(8,), width_multipliers=(1.0,), stages=(tiny,)).size() == 1
    with pytest.raises(ValueError, match="resolution 8 is below the total stride 16"):
        dataclasses.replace(space, resolutions=(8, 32))


def test_smallest_takes_the_least_of_every_choice(
    default_space: SearchSpace, mixed_space: SearchSpace
) -> None:
    assert default_space.smallest().to_str() == (
        "stem_r128_i3_c8:ds_r1_k3_s1_c16:ds_r1_k3_s2_c32:ds_r1_k3_s2_c64:ds_r2_k3_s2_c128:"
        "ds_r1_k3_s2_c256:head_n1000"
    )
    assert mixed_space.smallest().to_str() == (
        "stem_r32_i3_c8:ds_r1_k3_s1_c8:ir_r1_k3_s2_e2.5_c16_hswish:head_c64_h128_n1000_relu6"
    )
    assert SearchSpace.preset("v3").smallest().stages[4].se is False
