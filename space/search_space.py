"""The search space: per-stage choices of block type, width, depth, kernel, expansion, squeeze-
excite and activation, plus the stem, the head and the input resolution.

A space is configured by a small TOML file; ``space/default_space.toml`` documents every key. Three
presets ship with hwnas (`PRESETS`): ``v1`` (the default, MobileNetV1's stages), ``v2`` (inverted
residuals in MobileNetV2's stages, like ProxylessNAS) and ``v3`` (MobileNetV3-Large's stages with
squeeze-excite and hard-swish, like Once-for-All's MobileNetV3 space). Each space names the
``family`` whose published networks (`space.baselines`) it contains and enqueues first.

Widths are ``make_divisible(multiplier * base width)``, one multiplier choice per stage and one for
the stem. The head's widths are listed as they are (MobileNetV2/V3 do not shrink them).
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from space.arch import (
    ACTIVATIONS,
    BLOCKS,
    DEFAULT_ACTIVATION,
    DEFAULT_STEM_STRIDE,
    VALID_STRIDES,
    Arch,
    Stage,
    check_expansion,
    make_divisible,
)
from space.baselines import check_family, family_baselines

MIN_RESOLUTION = 8
MAX_RESOLUTION = 1024
MAX_WIDTH_MULTIPLIER = 4.0
MAX_WIDTH = 8192
MAX_KERNEL = 11
MAX_DEPTH = 12
#: Preset name -> packaged TOML file.
PRESETS = {"v1": "default_space.toml", "v2": "v2_space.toml", "v3": "v3_space.toml"}
TOP_KEYS = (
    "family",
    "resolutions",
    "width_multipliers",
    "in_channels",
    "num_classes",
    "stem",
    "stages",
    "head",
)
#: Shorthands of the first config format, still accepted: every stage's kernel choices, and one
#: list of depth choices per stage. They apply to the default space's stages.
LEGACY_KEYS = ("kernels", "depths")
STEM_KEYS = ("width", "stride", "activations")
HEAD_KEYS = ("widths", "hidden", "activations")
STAGE_KEYS = ("blocks", "width", "stride", "depths", "kernels", "expansions", "se", "activations")


class TrialLike(Protocol):
    """The part of ``optuna.trial.Trial`` that `SearchSpace.suggest` uses."""

    def suggest_categorical(self, name: str, choices: Any) -> Any: ...


@dataclass(frozen=True)
class StemChoices:
    """The stem: base width (times each multiplier), stride, activation choices."""

    width: int = 32
    stride: int = DEFAULT_STEM_STRIDE
    activations: tuple[str, ...] = (DEFAULT_ACTIVATION,)

    def __post_init__(self) -> None:
        _check_ints("stem width", (self.width,), 1, MAX_WIDTH)
        _check_stride("stem stride", self.stride)
        _check_activations("stem activations", self.activations)


@dataclass(frozen=True)
class HeadChoices:
    """The head: widths of a 1x1 conv before the pool and of a hidden layer after it (empty:
    none), activation choices (only with a conv or hidden layer)."""

    widths: tuple[int, ...] = ()
    hidden: tuple[int, ...] = ()
    activations: tuple[str, ...] = (DEFAULT_ACTIVATION,)

    def __post_init__(self) -> None:
        for name in ("widths", "hidden"):
            if getattr(self, name):
                _check_ints(f"head {name}", getattr(self, name), 1, MAX_WIDTH)
        _check_activations("head activations", self.activations)
        if not self.widths and not self.hidden and self.activations != (DEFAULT_ACTIVATION,):
            raise ValueError(
                f"head activations {list(self.activations)} need head widths or hidden: a pool "
                "and a linear classifier have no activation"
            )


@dataclass(frozen=True)
class StageChoices:
    """One stage: block types, base width (times each multiplier), stride of its first block,
    and choices of depth, kernel, expansion and squeeze-excite (``ir`` blocks) and activation."""

    width: int
    stride: int
    depths: tuple[int, ...]
    kernels: tuple[int, ...]
    blocks: tuple[str, ...] = ("ds",)
    expansions: tuple[float, ...] = ()
    se: tuple[bool, ...] = (False,)
    activations: tuple[str, ...] = (DEFAULT_ACTIVATION,)

    def __post_init__(self) -> None:
        _check_ints("width", (self.width,), 1, MAX_WIDTH)
        _check_stride("stride", self.stride)
        _check_ints("depths", self.depths, 1, MAX_DEPTH)
        _check_ints("kernels", self.kernels, 1, MAX_KERNEL)
        for kernel in self.kernels:
            if kernel % 2 == 0:
                raise ValueError(f"kernels must be odd, got {kernel} in {list(self.kernels)}")
        _check_distinct("blocks", self.blocks)
        for block in self.blocks:
            if block not in BLOCKS:
                raise ValueError(f"blocks value {block!r} is unknown: expected ds and/or ir")
        _check_activations("activations", self.activations)
        if "ir" not in self.blocks:
            if self.expansions or self.se != (False,):
                raise ValueError(
                    f"expansions and se are choices of 'ir' blocks; this stage allows only "
                    f"{list(self.blocks)}"
                )
            return
        if not self.expansions:
            raise ValueError("a stage that allows 'ir' blocks needs expansions, e.g. [3, 6]")
        _check_distinct("expansions", self.expansions)
        object.__setattr__(self, "expansions", tuple(check_expansion(e) for e in self.expansions))
        _check_distinct("se", self.se)
        for value in self.se:
            if not isinstance(value, bool):
                raise ValueError(f"se value {value!r} is not true or false")

    def variants(self) -> list[tuple[str, float, bool]]:
        """Every (block, expansion, se) this stage allows; ``ds`` has expansion 1 and no SE."""
        found: list[tuple[str, float, bool]] = []
        for block in self.blocks:
            if block == "ds":
                found.append(("ds", 1.0, False))
            else:
                found += [("ir", e, se) for e in self.expansions for se in self.se]
        return found


@dataclass(frozen=True)
class SearchSpace:
    """Choices per decision; build one with `default`, `preset` or `from_toml`."""

    resolutions: tuple[int, ...]
    width_multipliers: tuple[float, ...]
    stages: tuple[StageChoices, ...]
    stem: StemChoices = field(default_factory=StemChoices)
    head: HeadChoices = field(default_factory=HeadChoices)
    family: str = "v1"
    in_channels: int = 3
    num_classes: int = 1000

    def __post_init__(self) -> None:
        _check_ints("resolutions", self.resolutions, MIN_RESOLUTION, MAX_RESOLUTION)
        _check_choices(
            "width_multipliers", self.width_multipliers, float, 0.0, MAX_WIDTH_MULTIPLIER
        )
        if not isinstance(self.stages, tuple) or not self.stages:
            raise ValueError(f"stages must be a non-empty list, got {self.stages!r}")
        for stage in self.stages:
            if not isinstance(stage, StageChoices):
                raise TypeError(f"stages must be StageChoices values, got {stage!r}")
        check_family(self.family)
        for name in ("in_channels", "num_classes"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        total = self.total_stride()
        smallest = min(self.resolutions)
        if smallest < total:
            strides = ", ".join(str(stage.stride) for stage in self.stages)
            raise ValueError(
                f"resolution {smallest} is below the total stride {total} of the stride schedule "
                f"(stem {self.stem.stride}, stages {strides}): the last feature map would be "
                f"smaller than 1x1; use resolutions >= {total} or fewer stride-2 stages"
            )

    # -- construction -------------------------------------------------------------------------

    @classmethod
    def default(cls) -> SearchSpace:
        """The space of ``space/default_space.toml`` (the ``v1`` preset)."""
        return cls.preset("v1")

    @classmethod
    def preset(cls, name: str) -> SearchSpace:
        """A packaged preset by name: ``v1`` (the default), ``v2`` or ``v3``."""
        if name not in PRESETS:
            raise ValueError(f"unknown preset {name!r}: expected one of {', '.join(PRESETS)}")
        text = resources.files("space").joinpath(PRESETS[name]).read_text()
        return cls.from_dict(tomllib.loads(text), source=PRESETS[name], complete=True)

    @classmethod
    def from_toml(cls, path: str | Path) -> SearchSpace:
        """Load a space config; a missing, malformed or out-of-bounds file raises ``ValueError``."""
        path = Path(path)
        try:
            data = tomllib.loads(path.read_text())
        except FileNotFoundError:
            raise ValueError(f"search space config {str(path)!r} does not exist") from None
        except tomllib.TOMLDecodeError as err:
            raise ValueError(
                f"search space config {str(path)!r} is not valid TOML: {err}"
            ) from None
        except UnicodeDecodeError:
            raise ValueError(f"search space config {str(path)!r} is not UTF-8 text") from None
        except OSError as err:
            # A directory or an unreadable file: still one line naming the path.
            reason = err.strerror or type(err).__name__
            raise ValueError(f"cannot read search space config {str(path)!r}: {reason}") from None
        return cls.from_dict(data, source=str(path))

    @classmethod
    def from_dict(
        cls, data: dict[str, Any], source: str = "config", *, complete: bool = False
    ) -> SearchSpace:
        """Build from parsed TOML; top-level keys missing from ``data`` take the default space's
        value, keys missing from ``[stem]`` and ``[head]`` the default stem's and head's."""
        try:
            return cls._from_dict(data, complete)
        except (ValueError, TypeError) as err:
            raise ValueError(f"{source}: {err}") from None

    @classmethod
    def _from_dict(cls, data: dict[str, Any], complete: bool) -> SearchSpace:
        if not isinstance(data, dict):
            raise ValueError(f"a space config must be a table, got {data!r}")
        _check_keys(data, (*TOP_KEYS, *LEGACY_KEYS), "")
        if "stages" in data and any(key in data for key in LEGACY_KEYS):
            raise ValueError(
                "kernels and depths (the old shorthands) cannot be combined with [[stages]]: "
                "give them inside each stage"
            )
        # ``complete``: every key must be given (a preset itself, which cannot merge).
        defaults = {} if complete else cls.default().to_dict()
        merged = {**defaults, **data}
        for table in ("stem", "head"):
            if not isinstance(merged.get(table, {}), dict):
                raise ValueError(f"{table} must be a table, got {merged[table]!r}")
            merged[table] = {**defaults.get(table, {}), **merged.get(table, {})}
        missing = [
            key for key in ("resolutions", "width_multipliers", "stages") if key not in merged
        ]
        if missing:
            raise ValueError(f"missing {', '.join(missing)}")
        stages = [
            _stage_from_dict(stage, i)
            for i, stage in enumerate(_as_list(merged["stages"], "stages"), 1)
        ]
        if "kernels" in data:
            kernels = _as_tuple(data["kernels"], "kernels")
            stages = [replace(stage, kernels=kernels) for stage in stages]
        if "depths" in data:
            depths = _as_list(data["depths"], "depths")
            if len(depths) != len(stages):
                raise ValueError(
                    f"depths needs one list per stage ({len(stages)}), got {len(depths)}: {depths}"
                )
            stages = [
                replace(stage, depths=_legacy_depths(d, f"depths[{i}]"))
                for i, (stage, d) in enumerate(zip(stages, depths, strict=True), 1)
            ]
        stem, head = merged["stem"], merged["head"]
        _check_keys(stem, STEM_KEYS, "stem")
        _check_keys(head, HEAD_KEYS, "head")
        return cls(
            resolutions=_as_tuple(merged["resolutions"], "resolutions"),
            width_multipliers=tuple(
                float(m) if isinstance(m, int | float) and not isinstance(m, bool) else m
                for m in _as_tuple(merged["width_multipliers"], "width_multipliers")
            ),
            stages=tuple(stages),
            stem=StemChoices(
                width=stem.get("width", StemChoices.width),
                stride=stem.get("stride", StemChoices.stride),
                activations=_as_tuple(
                    stem.get("activations", [DEFAULT_ACTIVATION]), "stem activations"
                ),
            ),
            head=HeadChoices(
                widths=tuple(_as_list(head.get("widths", []), "head widths")),
                hidden=tuple(_as_list(head.get("hidden", []), "head hidden")),
                activations=_as_tuple(
                    head.get("activations", [DEFAULT_ACTIVATION]), "head activations"
                ),
            ),
            family=merged.get("family", "v1"),
            in_channels=merged.get("in_channels", 3),
            num_classes=merged.get("num_classes", 1000),
        )

    def to_dict(self) -> dict[str, Any]:
        """The config as plain data (round-trips through `from_dict`)."""
        stages = []
        for stage in self.stages:
            entry: dict[str, Any] = {
                "blocks": list(stage.blocks),
                "width": stage.width,
                "stride": stage.stride,
                "depths": list(stage.depths),
                "kernels": list(stage.kernels),
            }
            if "ir" in stage.blocks:
                entry["expansions"] = list(stage.expansions)
                entry["se"] = list(stage.se)
            entry["activations"] = list(stage.activations)
            stages.append(entry)
        head: dict[str, Any] = {"activations": list(self.head.activations)}
        if self.head.widths:
            head["widths"] = list(self.head.widths)
        if self.head.hidden:
            head["hidden"] = list(self.head.hidden)
        return {
            "family": self.family,
            "resolutions": list(self.resolutions),
            "width_multipliers": list(self.width_multipliers),
            "in_channels": self.in_channels,
            "num_classes": self.num_classes,
            "stem": {
                "width": self.stem.width,
                "stride": self.stem.stride,
                "activations": list(self.stem.activations),
            },
            "stages": stages,
            "head": head,
        }

    def with_task(self, in_channels: int, num_classes: int) -> SearchSpace:
        """The same space for a data set with ``in_channels`` and ``num_classes``."""
        return replace(self, in_channels=in_channels, num_classes=num_classes)

    # -- the choices, as channel counts -------------------------------------------------------

    def total_stride(self) -> int:
        """Input size / last feature map size: the product of the stem's and stages' strides."""
        return self.stem.stride * math.prod(stage.stride for stage in self.stages)

    def stem_widths(self) -> tuple[int, ...]:
        """Distinct stem widths, ascending."""
        return _distinct_widths(self.stem.width, self.width_multipliers)

    def stage_widths(self, stage: int) -> tuple[int, ...]:
        """Distinct output widths of stage ``stage`` (0-based), ascending."""
        return _distinct_widths(self.stages[stage].width, self.width_multipliers)

    def size(self) -> int:
        """Number of distinct architectures (widths counted after channel rounding)."""
        total = len(self.resolutions) * len(self.stem_widths()) * len(self.stem.activations)
        for index, stage in enumerate(self.stages):
            total *= len(self.stage_widths(index)) * len(stage.depths) * len(stage.kernels)
            total *= len(stage.variants()) * len(stage.activations)
        head = self.head
        return total * max(1, len(head.widths)) * max(1, len(head.hidden)) * len(head.activations)

    def log10_size(self) -> float:
        """log10 of `size`, for display."""
        return math.log10(self.size())

    # -- the Optuna mapping -------------------------------------------------------------------

    def param_choices(self) -> dict[str, tuple[Any, ...]]:
        """Optuna parameter name -> choices, in the order `suggest` asks them.

        Widths are distinct channel counts, not multipliers, so that two multipliers rounding to
        one width are not two points of the space. MobileNetV1's decisions (resolution, stem
        width, and each stage's width, depth and kernel) are always parameters; the others only
        where the space offers more than one choice. ``s<i>_expansion`` and ``s<i>_se`` are
        conditional: they exist only in trials whose stage ``i`` is an inverted residual.
        """
        choices: dict[str, tuple[Any, ...]] = {}
        self._choose(lambda name, values: choices.setdefault(name, values)[0], every_branch=True)
        return choices

    def suggest(self, trial: TrialLike) -> Arch:
        """Map an Optuna trial to an architecture (categorical choices, names as in `to_params`)."""
        return self._choose(lambda name, values: trial.suggest_categorical(name, list(values)))

    def from_params(self, params: dict[str, Any]) -> Arch:
        """The architecture for a full set of Optuna parameters (see `param_choices`)."""
        used: list[str] = []

        def lookup(name: str, values: tuple[Any, ...]) -> Any:
            if name not in params:
                expected = ", ".join(self.param_choices())
                raise ValueError(f"missing parameter {name!r}: expected {expected}")
            value = params[name]
            if not any(_same(value, choice) for choice in values):
                raise ValueError(
                    f"parameter {name}={value!r} is not in the space: "
                    f"expected one of {list(values)}"
                )
            used.append(name)
            return value

        arch = self._choose(lookup)
        unused = [name for name in params if name not in used]
        if unused:
            name = unused[0]
            known = name in self.param_choices()
            raise ValueError(
                f"parameter {name}={params[name]!r} does not apply: "
                + (
                    "it is an inverted-residual choice and that stage is 'ds'"
                    if known
                    else f"expected only {', '.join(self.param_choices())}"
                )
            )
        return arch

    def to_params(self, arch: Arch) -> dict[str, Any]:
        """Optuna parameters of ``arch`` (to enqueue it); ``ValueError`` if it is not a member."""
        if (arch.in_channels, arch.num_classes) != (self.in_channels, self.num_classes):
            raise ValueError(
                f"arch {arch} has {arch.in_channels} input channels and "
                f"{arch.num_classes} classes; the space has {self.in_channels} and "
                f"{self.num_classes}"
            )
        if len(arch.stages) != len(self.stages):
            raise ValueError(
                f"arch {arch} has {len(arch.stages)} stages; the space has {len(self.stages)}"
            )
        if arch.stem_stride != self.stem.stride:
            raise ValueError(
                f"arch {arch} has stem stride {arch.stem_stride}; the space uses {self.stem.stride}"
            )
        for i, (stage, choices) in enumerate(zip(arch.stages, self.stages, strict=True), 1):
            if stage.stride != choices.stride:
                raise ValueError(
                    f"arch {arch} stage {i} has stride {stage.stride}; "
                    f"the space uses {choices.stride}"
                )
        for name, value, widths in (
            ("head_width", arch.head_width, self.head.widths),
            ("head_hidden", arch.head_hidden, self.head.hidden),
        ):
            if (value is None) != (not widths):
                has = "none" if value is None else value
                wants = list(widths) if widths else "none"
                raise ValueError(f"arch {arch} has {name} {has}; the space has {wants}")
        values = _decision_values(arch)
        params: dict[str, Any] = {}

        def read(name: str, choices: tuple[Any, ...]) -> Any:
            value = values[name]
            if not any(_same(value, choice) for choice in choices):
                raise ValueError(
                    f"arch {arch} has {name}={value!r}, not in the space: "
                    f"expected one of {list(choices)}"
                )
            params[name] = value
            return value

        self._choose(read, every_decision=True)
        names = self.param_choices()
        return {name: value for name, value in params.items() if name in names}

    def contains(self, arch: Arch) -> bool:
        """Whether ``arch`` is a member of the space."""
        try:
            self.to_params(arch)
        except ValueError:
            return False
        return True

    def _choose(
        self,
        choose: Callable[[str, tuple[Any, ...]], Any],
        *,
        every_branch: bool = False,
        every_decision: bool = False,
    ) -> Arch:
        """Build an arch from one ``choose(name, choices)`` call per decision, in order.

        The single place that knows the decisions and their conditions. Decisions with a single
        choice that are not MobileNetV1's are taken without a call unless ``every_decision``;
        conditional ones are visited only on their branch unless ``every_branch`` (which then
        returns a placeholder arch: for `param_choices`).
        """

        def pick(name: str, values: tuple[Any, ...], always: bool = False) -> Any:
            if always or every_decision or len(values) > 1:
                return choose(name, values)
            return values[0]

        resolution = pick("resolution", self.resolutions, always=True)
        stem_width = pick("stem_width", self.stem_widths(), always=True)
        stem_activation = pick("stem_act", self.stem.activations)
        stages = []
        for index, choices in enumerate(self.stages):
            prefix = f"s{index + 1}_"
            block = pick(prefix + "block", choices.blocks)
            width = pick(prefix + "width", self.stage_widths(index), always=True)
            depth = pick(prefix + "depth", choices.depths, always=True)
            kernel = pick(prefix + "kernel", choices.kernels, always=True)
            expansion, se = 1.0, False
            if block == "ir" or (every_branch and "ir" in choices.blocks):
                expansion = pick(prefix + "expansion", choices.expansions)
                se = pick(prefix + "se", choices.se)
            activation = pick(prefix + "act", choices.activations)
            if every_branch:
                block, expansion, se = choices.variants()[0]
            stages.append(
                Stage(
                    width=int(width),
                    depth=int(depth),
                    kernel=int(kernel),
                    stride=choices.stride,
                    block=block,
                    expansion=float(expansion),
                    se=bool(se),
                    activation=activation,
                )
            )
        head = self.head
        head_width = pick("head_width", head.widths) if head.widths else None
        head_hidden = pick("head_hidden", head.hidden) if head.hidden else None
        head_activation = pick("head_act", head.activations)
        return Arch(
            resolution=int(resolution),
            in_channels=self.in_channels,
            num_classes=self.num_classes,
            stem_width=int(stem_width),
            stages=tuple(stages),
            stem_stride=self.stem.stride,
            stem_activation=stem_activation,
            head_width=None if head_width is None else int(head_width),
            head_hidden=None if head_hidden is None else int(head_hidden),
            head_activation=head_activation,
        )

    def smallest(self) -> Arch:
        """The least of every choice: lowest resolution, narrowest, shallowest, smallest kernels
        and expansions, no squeeze-excite, and the block type and activation listed first in
        `space.arch.BLOCKS` and `space.arch.ACTIVATIONS` (ds before ir, relu first)."""
        rank = {name: index for index, name in enumerate((*BLOCKS, *ACTIVATIONS))}
        return self._choose(
            lambda name, values: min(values, key=lambda v: rank[v] if isinstance(v, str) else v)
        )

    # -- sampling and baselines ---------------------------------------------------------------

    def sample(self, rng: np.random.Generator) -> Arch:
        """One architecture drawn uniformly from the distinct architectures of the space.

        A decision with one choice draws nothing, so a MobileNetV1 space draws the same numbers
        in the same order as before the other decisions existed (seeded results stay valid).
        """

        def draw(values: tuple[Any, ...]) -> Any:
            return values[int(rng.integers(len(values)))] if len(values) > 1 else values[0]

        resolution = int(rng.choice(self.resolutions))
        stem_widths = self.stem_widths()
        stem_width = int(stem_widths[rng.integers(len(stem_widths))])
        stem_activation = draw(self.stem.activations)
        stages = []
        for index, choices in enumerate(self.stages):
            widths = self.stage_widths(index)
            width = int(widths[rng.integers(len(widths))])
            depth = int(rng.choice(choices.depths))
            kernel = int(rng.choice(choices.kernels))
            # Uniform over (block, expansion, se) triples, so uniform over distinct stages.
            block, expansion, se = draw(tuple(choices.variants()))
            activation = draw(choices.activations)
            stages.append(
                Stage(width, depth, kernel, choices.stride, block, expansion, se, activation)
            )
        head = self.head
        head_width = draw(head.widths) if head.widths else None
        head_hidden = draw(head.hidden) if head.hidden else None
        return Arch(
            resolution=resolution,
            in_channels=self.in_channels,
            num_classes=self.num_classes,
            stem_width=stem_width,
            stages=tuple(stages),
            stem_stride=self.stem.stride,
            stem_activation=stem_activation,
            head_width=head_width,
            head_hidden=head_hidden,
            head_activation=draw(head.activations),
        )

    def baselines(self) -> list[tuple[str, Arch]]:
        """The family's published networks (`space.baselines`) that are members, by name."""
        found = []
        for baseline in family_baselines(self.family, self.resolutions):
            arch = baseline.arch(self.num_classes, self.in_channels)
            if self.contains(arch):
                found.append((baseline.name, arch))
        return found


def _decision_values(arch: Arch) -> dict[str, Any]:
    """Every decision's value in ``arch``, under its parameter name."""
    values: dict[str, Any] = {
        "resolution": arch.resolution,
        "stem_width": arch.stem_width,
        "stem_act": arch.stem_activation,
        "head_width": arch.head_width,
        "head_hidden": arch.head_hidden,
        "head_act": arch.head_activation,
    }
    for index, stage in enumerate(arch.stages, 1):
        prefix = f"s{index}_"
        values |= {
            prefix + "block": stage.block,
            prefix + "width": stage.width,
            prefix + "depth": stage.depth,
            prefix + "kernel": stage.kernel,
            prefix + "expansion": stage.expansion,
            prefix + "se": stage.se,
            prefix + "act": stage.activation,
        }
    return values


def _same(value: Any, choice: Any) -> bool:
    """Equal and of the same kind: ``True`` is not the width 1, nor ``1`` the se flag True."""
    return isinstance(value, bool) == isinstance(choice, bool) and value == choice


def _stage_from_dict(data: Any, index: int) -> StageChoices:
    where = f"stages[{index}]"
    if not isinstance(data, dict):
        raise ValueError(f"{where} must be a table, got {data!r}")
    _check_keys(data, STAGE_KEYS, where)
    missing = [key for key in ("width", "stride", "depths", "kernels") if key not in data]
    if missing:
        raise ValueError(f"{where} is missing {', '.join(missing)}")
    try:
        return StageChoices(
            width=data["width"],
            stride=data["stride"],
            depths=_as_tuple(data["depths"], "depths"),
            kernels=_as_tuple(data["kernels"], "kernels"),
            blocks=_as_tuple(data.get("blocks", ["ds"]), "blocks"),
            expansions=tuple(_as_list(data.get("expansions", []), "expansions")),
            se=_as_tuple(data.get("se", [False]), "se"),
            activations=_as_tuple(data.get("activations", [DEFAULT_ACTIVATION]), "activations"),
        )
    except ValueError as err:
        raise ValueError(f"{where}: {err}") from None


def _legacy_depths(value: Any, name: str) -> tuple[int, ...]:
    depths = _as_tuple(value, name)
    _check_ints(name, depths, 1, MAX_DEPTH)
    return depths


def _check_keys(data: dict[str, Any], allowed: tuple[str, ...], table: str) -> None:
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        where = f" in [{table}]" if table else ""
        raise ValueError(f"unknown key {unknown[0]!r}{where}: expected one of {', '.join(allowed)}")


def _distinct_widths(base: int, multipliers: tuple[float, ...]) -> tuple[int, ...]:
    return tuple(sorted({make_divisible(m * base) for m in multipliers}))


def _as_list(value: Any, name: str) -> list[Any]:
    if not isinstance(value, list | tuple):
        raise ValueError(f"{name} must be a list, got {value!r}")
    return list(value)


def _as_tuple(value: Any, name: str) -> tuple[Any, ...]:
    if not isinstance(value, list | tuple) or not value:
        raise ValueError(f"{name} must be a non-empty list, got {value!r}")
    return tuple(value)


def _check_stride(name: str, value: Any) -> None:
    if value not in VALID_STRIDES or isinstance(value, bool):
        raise ValueError(f"{name} must be one of {list(VALID_STRIDES)}, got {value!r}")


def _check_activations(name: str, values: tuple[Any, ...]) -> None:
    _check_distinct(name, values)
    for value in values:
        if value not in ACTIVATIONS:
            raise ValueError(
                f"{name} value {value!r} is unknown: expected one of {', '.join(ACTIVATIONS)}"
            )


def _check_distinct(name: str, values: tuple[Any, ...]) -> None:
    if not isinstance(values, tuple) or not values:
        raise ValueError(f"{name} must be a non-empty list, got {values!r}")
    if len(set(values)) != len(values):
        raise ValueError(f"{name} has duplicates: {list(values)}")


def _check_ints(name: str, values: tuple[Any, ...], low: int, high: int) -> None:
    _check_choices(name, values, int, low, high)


def _check_choices(name: str, values: tuple[Any, ...], kind: type, low: float, high: float) -> None:
    """Every value of the right type, within (low, high] for floats or [low, high] for ints."""
    if not values:
        raise ValueError(f"{name} must not be empty")
    for value in values:
        ok_type = isinstance(value, kind) and not isinstance(value, bool)
        in_bounds = ok_type and (low < value <= high if kind is float else low <= value <= high)
        if not in_bounds:
            bounds = f"({low:g}, {high:g}]" if kind is float else f"[{low:g}, {high:g}]"
            raise ValueError(
                f"{name} value {value!r} is out of bounds: expected {kind.__name__}s in {bounds}"
            )
    if len(set(values)) != len(values):
        raise ValueError(f"{name} has duplicates: {list(values)}")
