"""What an architecture is: spec, string form, search space, model builder, MAC/param counts.

Importing ``space`` does not import torch; ``build_model`` loads it on first use.
"""

from __future__ import annotations

from typing import Any

from space.arch import Arch, Stage, make_divisible
from space.baselines import (
    PAPER_FIGURES,
    baseline_from_name,
    baseline_name,
    mobilenet_v1,
    parse_arch_or_baseline,
)
from space.layers import Layer, count_macs, count_params, count_trainable_params, layers
from space.search_space import SearchSpace

__all__ = [
    "PAPER_FIGURES",
    "Arch",
    "Layer",
    "SearchSpace",
    "Stage",
    "baseline_from_name",
    "baseline_name",
    "build_model",
    "count_macs",
    "count_params",
    "count_trainable_params",
    "layers",
    "make_divisible",
    "mobilenet_v1",
    "parse_arch_or_baseline",
]


def __getattr__(name: str) -> Any:
    if name == "build_model":
        from space.model import build_model

        return build_model
    raise AttributeError(f"module 'space' has no attribute {name!r}")
