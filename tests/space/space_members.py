"""Every architecture of a small space, by brute force: the reference its counts are tested on."""

from __future__ import annotations

import itertools

from space import Arch, SearchSpace


def all_members(space: SearchSpace) -> set[Arch]:
    """Every architecture of ``space``, from every combination of its Optuna parameters."""
    choices = space.param_choices()
    found = set()
    for values in itertools.product(*choices.values()):
        params = dict(zip(choices, values, strict=True))
        for index, stage in enumerate(space.stages, 1):
            block = params.get(f"s{index}_block", stage.blocks[0])
            if block == "ds":  # conditional parameters of an inverted residual do not apply
                params.pop(f"s{index}_expansion", None)
                params.pop(f"s{index}_se", None)
        found.add(space.from_params(params))
    return found
