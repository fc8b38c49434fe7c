"""What an architecture is: spec, string form, search space, model builder, MAC/param counts.

Importing ``space`` does not import torch; ``build_model`` loads it on first use.
"""

from __future__ import annotations

from typing import Any

from space.arch import ACTIVATIONS, BLOCKS, Arch, Stage, make_divisible
from space.baselines import (
    FAMILIES,
    PAPER_FIGURES,
    PUBLISHED,
    REFERENCE_COUNTS,
    Baseline,
    PublishedFigures,
    baseline_from_name,
    baseline_name,
    mobilenet_v1,
    mobilenet_v2,
    mobilenet_v3,
    parse_arch_or_baseline,
    published_baselines,
)
from space.layers import (
    Block,
    Layer,
    blocks,
    count_macs,
    count_params,
    count_trainable_params,
    layers,
)
from space.search_space import PRESETS, SearchSpace

__all__ = [
    "ACTIVATIONS",
    "BLOCKS",
    "FAMILIES",
    "PAPER_FIGURES",
    "PRESETS",
    "PUBLISHED",
    "REFERENCE_COUNTS",
    "Arch",
    "Baseline",
    "Block",
    "Layer",
    "PublishedFigures",
    "SearchSpace",
    "Stage",
    "baseline_from_name",
    "baseline_name",
    "blocks",
    "build_model",
    "count_macs",
    "count_params",
    "count_trainable_params",
    "layers",
    "make_divisible",
    "mobilenet_v1",
    "mobilenet_v2",
    "mobilenet_v3",
    "parse_arch_or_baseline",
    "published_baselines",
]


def __getattr__(name: str) -> Any:
    if name == "build_model":
        from space.model import build_model

        return build_model
    raise AttributeError(f"module 'space' has no attribute {name!r}")
