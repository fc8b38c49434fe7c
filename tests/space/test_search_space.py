"""`SearchSpace`: config loading and errors, sampling, Optuna mapping, baselines, size."""

from __future__ import annotations

import collections
import dataclasses
import itertools
from pathlib import Path

import numpy as np
import optuna
import pytest

from space import Arch, SearchSpace, mobilenet_v1
from space.baselines import PAPER_ALPHAS, PAPER_RESOLUTIONS

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
    assert default_space.kernels == (3, 5, 7)
    assert default_space.depths == ((1, 2), (1, 2, 3), (1, 2, 3), (2, 3, 4, 5, 6), (1, 2))
    assert (default_space.in_channels, default_space.num_classes) == (3, 1000)
    assert default_space.stem_widths() == (8, 16, 24, 32)
    assert default_space.stage_widths(4) == (256, 384, 512, 640, 768, 1024)
    assert [default_space.stage_stride(i) for i in range(5)] == [1, 2, 2, 2, 2]


def test_default_space_size(default_space: SearchSpace) -> None:
    # 4 resolutions x 4 stem widths x per stage (6 widths x depths x 3 kernels).
    expected = 4 * 4 * (6**5) * (3**5) * (2 * 3 * 3 * 5 * 2)
    assert default_space.size() == expected == 5_441_955_840
    assert default_space.log10_size() == pytest.approx(np.log10(expected))


def test_size_equals_a_brute_force_count(tiny_space: SearchSpace) -> None:
    distinct = set()
    multipliers = tiny_space.width_multipliers
    for resolution, stem, stage_mults, depths, kernels in itertools.product(
        tiny_space.resolutions,
        multipliers,
        itertools.product(multipliers, repeat=5),
        itertools.product(*tiny_space.depths),
        itertools.product(tiny_space.kernels, repeat=5),
    ):
        distinct.add(
            tiny_space.arch_from_choices(
                resolution=resolution,
                stem_multiplier=stem,
                multipliers=stage_mults,
                depths=depths,
                kernels=kernels,
            )
        )
    assert tiny_space.size() == len(distinct)
    assert len(distinct) < 2 * 3**6 * 2 * 2**5  # rounding merged some choices
    assert all(tiny_space.contains(arch) for arch in itertools.islice(distinct, 200))


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


def test_suggest_with_fixed_trial_equals_from_params(default_space: SearchSpace) -> None:
    rng = np.random.default_rng(3)
    for _ in range(20):
        arch = default_space.sample(rng)
        params = default_space.to_params(arch)
        assert default_space.suggest(optuna.trial.FixedTrial(params)) == arch
        assert default_space.from_params(params) == arch


def test_enqueued_baselines_come_back_from_an_optuna_study(default_space: SearchSpace) -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    baselines = [arch for _, arch in default_space.baselines()[:3]]
    for arch in baselines:
        study.enqueue_trial(default_space.to_params(arch))
    asked = []
    for _ in baselines:
        trial = study.ask()
        asked.append(default_space.suggest(trial))
        study.tell(trial, 0.0)
    assert asked == baselines
    # A further (random) trial is still a member.
    assert default_space.contains(default_space.suggest(study.ask()))


def test_param_choices_names_and_values(default_space: SearchSpace) -> None:
    choices = default_space.param_choices()
    assert list(choices)[:2] == ["resolution", "stem_width"]
    assert len(choices) == 2 + 3 * 5
    assert choices["s4_depth"] == (2, 3, 4, 5, 6)
    assert choices["s5_width"] == default_space.stage_widths(4)
    for values in choices.values():
        assert all(type(v) is int for v in values)  # Optuna-storable, no numpy scalars


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
    no_k3 = dataclasses.replace(default_space, kernels=(5, 7))
    assert no_k3.baselines() == []
    two_res = dataclasses.replace(default_space, resolutions=(128, 160))
    assert len(two_res.baselines()) == 8


def test_partial_config_takes_the_other_keys_from_the_default(tmp_path: Path) -> None:
    path = tmp_path / "partial.toml"
    path.write_text("kernels = [3, 5]\n")
    space = SearchSpace.from_toml(path)
    assert space.kernels == (3, 5)
    assert space.resolutions == SearchSpace.default().resolutions
    assert SearchSpace.from_dict(space.to_dict()) == space


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("resolution = [128]\n", "unknown key 'resolution'"),
        ("[space]\nkernels = [3]\n", "unknown key 'space'"),
        ("resolutions = [16]\n", "resolutions value 16 is out of bounds"),
        ("resolutions = [128.0]\n", "resolutions value 128.0 is out of bounds"),
        ("resolutions = []\n", "resolutions must be a non-empty list"),
        ("resolutions = 128\n", "resolutions must be a non-empty list"),
        ("resolutions = [128, 128]\n", "resolutions has duplicates"),
        ("width_multipliers = [0.0]\n", "width_multipliers value 0.0 is out of bounds"),
        ("width_multipliers = [5.0]\n", "width_multipliers value 5.0 is out of bounds"),
        ("width_multipliers = ['1.0']\n", "width_multipliers value '1.0' is out of bounds"),
        ("kernels = [4]\n", "kernels must be odd"),
        ("kernels = [13]\n", "kernels value 13 is out of bounds"),
        ("depths = [[1], [1], [1], [1]]\n", "depths needs one list per MobileNetV1 stage"),
        ("depths = [[1], [1], [1], [1], [0]]\n", "depths[5] value 0 is out of bounds"),
        ("depths = [[1], [1], [1], [1], []]\n", "must be a non-empty list"),
        ("in_channels = 0\n", "in_channels must be a positive integer"),
        ("num_classes = true\n", "num_classes must be a positive integer"),
        ("kernels = [3\n", "is not valid TOML"),
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
        default_space.kernels = (3,)  # type: ignore[misc]
    assert isinstance(Arch.parse(default_space.sample(np.random.default_rng(0)).to_str()), Arch)


def test_a_user_file_named_like_the_default_still_merges(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("default_space.toml").write_text("kernels = [3, 5]\n")
    assert SearchSpace.from_toml("default_space.toml").kernels == (3, 5)
    with pytest.raises(ValueError, match="cfg is missing resolutions"):
        SearchSpace.from_dict({"kernels": [3]}, source="cfg", complete=True)
