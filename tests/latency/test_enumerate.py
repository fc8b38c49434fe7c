"""`space_signatures` is exactly the union of the signatures of all architectures of a space."""

from __future__ import annotations

import itertools
from collections import Counter

import numpy as np

from latency.enumerate import space_signatures
from latency.signature import arch_signatures
from space import SearchSpace


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
