"""The search space: per-stage width multiplier, depth and kernel, plus input resolution.

Bounds come from a small TOML file (``space/default_space.toml`` documents every key). The space
is seeded with MobileNetV1: its stem, stage base widths and strides are the paper's, and every
baseline alpha x resolution whose choices the config allows is a member.
"""

from __future__ import annotations

import itertools
import math
import tomllib
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from space.arch import Arch, Stage, make_divisible
from space.baselines import (
    MOBILENET_V1_STAGES,
    MOBILENET_V1_STEM,
    PAPER_ALPHAS,
    baseline_name,
    mobilenet_v1,
)

NUM_STAGES = len(MOBILENET_V1_STAGES)
MAX_WIDTH_MULTIPLIER = 4.0
MAX_KERNEL = 11
MAX_DEPTH = 12
ALLOWED_KEYS = (
    "resolutions",
    "width_multipliers",
    "kernels",
    "depths",
    "in_channels",
    "num_classes",
)


class TrialLike(Protocol):
    """The part of ``optuna.trial.Trial`` that `SearchSpace.suggest` uses."""

    def suggest_categorical(self, name: str, choices: Any) -> Any: ...


@dataclass(frozen=True)
class SearchSpace:
    """Choices per decision; build one with `SearchSpace.default` or `SearchSpace.from_toml`."""

    resolutions: tuple[int, ...]
    width_multipliers: tuple[float, ...]
    kernels: tuple[int, ...]
    depths: tuple[tuple[int, ...], ...]
    in_channels: int = 3
    num_classes: int = 1000

    def __post_init__(self) -> None:
        _check_choices("resolutions", self.resolutions, int, 32, 1024)
        _check_choices(
            "width_multipliers", self.width_multipliers, float, 0.0, MAX_WIDTH_MULTIPLIER
        )
        _check_choices("kernels", self.kernels, int, 1, MAX_KERNEL)
        for kernel in self.kernels:
            if kernel % 2 == 0:
                raise ValueError(f"kernels must be odd, got {kernel} in {list(self.kernels)}")
        if len(self.depths) != NUM_STAGES:
            raise ValueError(
                f"depths needs one list per MobileNetV1 stage ({NUM_STAGES}), "
                f"got {len(self.depths)}: {[list(d) for d in self.depths]}"
            )
        for index, stage_depths in enumerate(self.depths, start=1):
            _check_choices(f"depths[{index}]", stage_depths, int, 1, MAX_DEPTH)
        for name in ("in_channels", "num_classes"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")

    # -- construction -------------------------------------------------------------------------

    @classmethod
    def default(cls) -> SearchSpace:
        """The space of ``space/default_space.toml``."""
        text = resources.files("space").joinpath("default_space.toml").read_text()
        return cls.from_dict(tomllib.loads(text), source="default_space.toml", complete=True)

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
        """Build from parsed TOML; keys missing from ``data`` take the default space's value."""
        unknown = sorted(set(data) - set(ALLOWED_KEYS))
        if unknown:
            raise ValueError(
                f"unknown key {unknown[0]!r} in {source}: expected one of {', '.join(ALLOWED_KEYS)}"
            )
        # ``complete``: every key must be given (the default space itself, which cannot merge).
        defaults = {} if complete else cls.default().to_dict()
        merged = {**defaults, **data}
        missing = [key for key in ALLOWED_KEYS if key not in merged]
        if missing:
            raise ValueError(f"{source} is missing {', '.join(missing)}")
        try:
            return cls(
                resolutions=_as_tuple(merged["resolutions"], "resolutions"),
                width_multipliers=tuple(
                    float(m) if isinstance(m, int | float) and not isinstance(m, bool) else m
                    for m in _as_tuple(merged["width_multipliers"], "width_multipliers")
                ),
                kernels=_as_tuple(merged["kernels"], "kernels"),
                depths=tuple(
                    _as_tuple(d, "depths[…]") for d in _as_tuple(merged["depths"], "depths")
                ),
                in_channels=merged["in_channels"],
                num_classes=merged["num_classes"],
            )
        except (ValueError, TypeError) as err:
            raise ValueError(f"{source}: {err}") from None

    def to_dict(self) -> dict[str, Any]:
        """The config as plain data (round-trips through `from_dict`)."""
        return {
            "resolutions": list(self.resolutions),
            "width_multipliers": list(self.width_multipliers),
            "kernels": list(self.kernels),
            "depths": [list(d) for d in self.depths],
            "in_channels": self.in_channels,
            "num_classes": self.num_classes,
        }

    def with_task(self, in_channels: int, num_classes: int) -> SearchSpace:
        """The same space for a data set with ``in_channels`` and ``num_classes``."""
        return replace(self, in_channels=in_channels, num_classes=num_classes)

    # -- the choices, as channel counts -------------------------------------------------------

    def stem_widths(self) -> tuple[int, ...]:
        """Distinct stem widths, ascending."""
        return _distinct_widths(MOBILENET_V1_STEM, self.width_multipliers)

    def stage_widths(self, stage: int) -> tuple[int, ...]:
        """Distinct output widths of stage ``stage`` (0-based), ascending."""
        return _distinct_widths(MOBILENET_V1_STAGES[stage][0], self.width_multipliers)

    @staticmethod
    def stage_stride(stage: int) -> int:
        """MobileNetV1's stride for the first block of stage ``stage`` (0-based)."""
        return MOBILENET_V1_STAGES[stage][2]

    def size(self) -> int:
        """Number of distinct architectures (widths counted after channel rounding)."""
        total = len(self.resolutions) * len(self.stem_widths())
        for stage in range(NUM_STAGES):
            total *= len(self.stage_widths(stage)) * len(self.depths[stage]) * len(self.kernels)
        return total

    # -- membership and mapping ---------------------------------------------------------------

    def arch_from_choices(
        self,
        *,
        resolution: int,
        stem_multiplier: float,
        multipliers: tuple[float, ...],
        depths: tuple[int, ...],
        kernels: tuple[int, ...],
    ) -> Arch:
        """The architecture for one choice per decision (multipliers are applied to base widths)."""
        return Arch(
            resolution=resolution,
            in_channels=self.in_channels,
            num_classes=self.num_classes,
            stem_width=make_divisible(stem_multiplier * MOBILENET_V1_STEM),
            stages=tuple(
                Stage(
                    width=make_divisible(multipliers[i] * base),
                    depth=depths[i],
                    kernel=kernels[i],
                    stride=stride,
                )
                for i, (base, _, stride) in enumerate(MOBILENET_V1_STAGES)
            ),
        )

    def sample(self, rng: np.random.Generator) -> Arch:
        """One architecture drawn uniformly from the distinct architectures of the space."""
        stem_widths = self.stem_widths()
        return Arch(
            resolution=int(rng.choice(self.resolutions)),
            in_channels=self.in_channels,
            num_classes=self.num_classes,
            stem_width=int(stem_widths[rng.integers(len(stem_widths))]),
            stages=tuple(
                Stage(
                    width=int(self.stage_widths(i)[rng.integers(len(self.stage_widths(i)))]),
                    depth=int(rng.choice(self.depths[i])),
                    kernel=int(rng.choice(self.kernels)),
                    stride=self.stage_stride(i),
                )
                for i in range(NUM_STAGES)
            ),
        )

    def suggest(self, trial: TrialLike) -> Arch:
        """Map an Optuna trial to an architecture (categorical choices, names as in `to_params`)."""
        return self.from_params(
            {
                name: trial.suggest_categorical(name, list(choices))
                for name, choices in self.param_choices().items()
            }
        )

    def param_choices(self) -> dict[str, tuple[int, ...]]:
        """Optuna parameter name -> choices. Widths are distinct channel counts, not multipliers,
        so that two multipliers rounding to one width are not two points of the space."""
        choices: dict[str, tuple[int, ...]] = {
            "resolution": self.resolutions,
            "stem_width": self.stem_widths(),
        }
        for i in range(NUM_STAGES):
            choices[f"s{i + 1}_width"] = self.stage_widths(i)
            choices[f"s{i + 1}_depth"] = self.depths[i]
            choices[f"s{i + 1}_kernel"] = self.kernels
        return choices

    def from_params(self, params: dict[str, Any]) -> Arch:
        """The architecture for a full set of Optuna parameters (see `param_choices`)."""
        expected = self.param_choices()
        for name, choices in expected.items():
            if name not in params:
                raise ValueError(f"missing parameter {name!r}: expected {', '.join(expected)}")
            if params[name] not in choices:
                raise ValueError(
                    f"parameter {name}={params[name]!r} is not in the space: "
                    f"expected one of {list(choices)}"
                )
        return Arch(
            resolution=int(params["resolution"]),
            in_channels=self.in_channels,
            num_classes=self.num_classes,
            stem_width=int(params["stem_width"]),
            stages=tuple(
                Stage(
                    width=int(params[f"s{i + 1}_width"]),
                    depth=int(params[f"s{i + 1}_depth"]),
                    kernel=int(params[f"s{i + 1}_kernel"]),
                    stride=self.stage_stride(i),
                )
                for i in range(NUM_STAGES)
            ),
        )

    def to_params(self, arch: Arch) -> dict[str, int]:
        """Optuna parameters of ``arch`` (to enqueue it); ``ValueError`` if it is not a member."""
        if (arch.in_channels, arch.num_classes) != (self.in_channels, self.num_classes):
            raise ValueError(
                f"arch {arch} has {arch.in_channels} input channels and "
                f"{arch.num_classes} classes; the space has {self.in_channels} and "
                f"{self.num_classes}"
            )
        if len(arch.stages) != NUM_STAGES:
            raise ValueError(
                f"arch {arch} has {len(arch.stages)} stages; the space has {NUM_STAGES}"
            )
        params: dict[str, int] = {"resolution": arch.resolution, "stem_width": arch.stem_width}
        for i, stage in enumerate(arch.stages):
            if stage.stride != self.stage_stride(i):
                raise ValueError(
                    f"arch {arch} stage {i + 1} has stride {stage.stride}; "
                    f"the space uses {self.stage_stride(i)}"
                )
            params[f"s{i + 1}_width"] = stage.width
            params[f"s{i + 1}_depth"] = stage.depth
            params[f"s{i + 1}_kernel"] = stage.kernel
        self.from_params(params)  # raises, naming the first choice outside the space
        return params

    def contains(self, arch: Arch) -> bool:
        """Whether ``arch`` is a member of the space."""
        try:
            self.to_params(arch)
        except ValueError:
            return False
        return True

    def baselines(self) -> list[tuple[str, Arch]]:
        """The MobileNetV1 variants (paper alphas x resolutions) that are members, by name."""
        found = []
        for alpha, resolution in itertools.product(PAPER_ALPHAS, self.resolutions):
            arch = mobilenet_v1(alpha, resolution, self.num_classes, self.in_channels)
            if self.contains(arch):
                found.append((baseline_name(alpha, resolution), arch))
        return found

    def log10_size(self) -> float:
        """log10 of `size`, for display."""
        return math.log10(self.size())


def _distinct_widths(base: int, multipliers: tuple[float, ...]) -> tuple[int, ...]:
    return tuple(sorted({make_divisible(m * base) for m in multipliers}))


def _as_tuple(value: Any, name: str) -> tuple[Any, ...]:
    if not isinstance(value, list | tuple) or not value:
        raise ValueError(f"{name} must be a non-empty list, got {value!r}")
    return tuple(value)


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
