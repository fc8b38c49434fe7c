"""`space_signatures` is exactly the union of the signatures of all architectures of a space."""

from __future__ import annotations

import itertools
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from latency.enumerate import space_signatures
from latency.signature import Signature, arch_signatures
from space import SearchSpace
from tests.space.space_members import all_members


def test_tiny_space_equals_union_over_every_architecture(tiny_space: SearchSpace) -> None:
    choices = tiny_space.param_choices()
    union = set()
    for values in itertools.product(*choices.values()):
        union |= set(
            arch_signatures(tiny_space.from_params(dict(zip(choices, values, strict=True))))
        )
    assert set(space_signatures(tiny_space)) == union
    assert len(space_signatures(tiny_space)) == 37


def test_default_space_covers_samples_and_is_tight(default_space: SearchSpace) -> None:
    enumerated = space_signatures(default_space)
    assert len(enumerated) == len(set(enumerated)) == 1432
    assert Counter(s.op for s in enumerated) == {
        "pointwise": 732,
        "depthwise": 660,
        "head": 24,
        "stem": 16,
    }
    rng = np.random.default_rng(0)
    union = set()
    for _ in range(1500):
        union |= set(arch_signatures(default_space.sample(rng)))
    # Every sampled signature is enumerated, and 1500 samples already hit all of them.
    assert union == set(enumerated)


def test_task_changes_only_stem_and_head(default_space: SearchSpace) -> None:
    base = set(space_signatures(default_space))
    task = set(space_signatures(default_space.with_task(1, 10)))
    assert {s.op for s in base ^ task} == {"stem", "head"}
    assert all(s.in_channels == 1 for s in task if s.op == "stem")
    assert all(s.out_channels == 10 for s in task if s.op == "head")


def test_activation_and_dtype_are_carried(tiny_space: SearchSpace) -> None:
    sigs = space_signatures(tiny_space, activation="relu6")
    assert {s.activation for s in sigs} == {"relu6"}
    assert all(s.key.endswith("_relu6_fp32") for s in sigs)


MIXED = """
family = "v2"
resolutions = [32, 48]
width_multipliers = [0.5, 1.0]

[stem]
width = 16
stride = 1
activations = ["relu", "hswish"]

[head]
widths = [64]
hidden = [48, 96]
activations = ["hswish", "relu6"]

[[stages]]
blocks = ["ds", "ir"]
width = 16
stride = 2
depths = [1, 2]
kernels = [3, 5]
expansions = [1, 3]
se = [false, true]
activations = ["relu", "relu6"]

[[stages]]
blocks = ["ir"]
width = 24
stride = 2
depths = [1, 2]
kernels = [3]
expansions = [2.5]
activations = ["hswish"]
"""


def test_mixed_space_equals_union_over_every_architecture(tmp_path: Path) -> None:
    path = tmp_path / "mixed.toml"
    path.write_text(MIXED)
    space = SearchSpace.from_toml(path)
    archs = all_members(space)
    assert len(archs) == space.size()
    union: set[Signature] = set()
    for arch in archs:
        union |= set(arch_signatures(arch))
    enumerated = space_signatures(space)
    assert set(enumerated) == union
    ops = Counter(s.op for s in enumerated)
    assert set(ops) == {"stem", "depthwise", "pointwise", "ir", "head"}
    assert {s.activation for s in enumerated if s.op == "ir"} == {"relu", "relu6", "hswish"}
    assert {s.se for s in enumerated if s.op == "ir"} == {False, True}
    assert {s.residual for s in enumerated if s.op == "ir"} == {False, True}


@pytest.mark.parametrize("preset", ["v2", "v3"])
def test_presets_cover_their_samples(preset: str) -> None:
    space = SearchSpace.preset(preset).with_task(1, 10)
    enumerated = set(space_signatures(space))
    rng = np.random.default_rng(0)
    for _ in range(300):
        assert set(arch_signatures(space.sample(rng))) <= enumerated
    for _, arch in space.baselines():
        assert set(arch_signatures(arch)) <= enumerated
