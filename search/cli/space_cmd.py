"""``hwnas space``: the MobileNetV1 baselines, sampling and per-layer views of architectures.

The ``*_data`` functions compute plain dicts (what ``--json`` prints and what the tests compare);
the commands only present them.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich.console import Console
from rich.table import Table

from search.formatting import number
from space import (
    PAPER_FIGURES,
    Arch,
    SearchSpace,
    baseline_name,
    count_macs,
    count_params,
    count_trainable_params,
    layers,
    mobilenet_v1,
    parse_arch_or_baseline,
)
from space.baselines import PAPER_ALPHAS, PAPER_RESOLUTIONS

app = typer.Typer(help="Describe, count and sample the search space.", no_args_is_help=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config", help="Search space TOML (default: the packaged space/default_space.toml)."
    ),
]


# -- computing ---------------------------------------------------------------------------------


def baseline_archs() -> dict[str, Arch]:
    """The 16 MobileNetV1 variants of the paper (ImageNet task), by name."""
    return {
        baseline_name(alpha, resolution): mobilenet_v1(alpha, resolution)
        for alpha, resolution in itertools.product(PAPER_ALPHAS, PAPER_RESOLUTIONS)
    }


def baselines_data() -> list[dict[str, Any]]:
    """One record per MobileNetV1 variant: our counts beside the paper's (None: it prints none)."""
    rows = []
    for alpha, resolution in itertools.product(PAPER_ALPHAS, PAPER_RESOLUTIONS):
        arch = mobilenet_v1(alpha, resolution)
        macs, params = count_macs(arch), count_params(arch)
        paper = PAPER_FIGURES.get((alpha, resolution))
        rows.append(
            {
                "name": baseline_name(alpha, resolution),
                "alpha": alpha,
                "resolution": resolution,
                "arch": arch.to_str(),
                "macs": macs,
                "params": params,
                "trainable_params": count_trainable_params(arch),
                "macs_millions": round(macs / 1e6, 1),
                "params_millions": round(params / 1e6, 2),
                "paper_macs_millions": paper.macs_millions if paper else None,
                "paper_params_millions": paper.params_millions if paper else None,
                "macs_vs_paper": (
                    round(macs / 1e6 / paper.macs_millions - 1, 4) if paper else None
                ),
            }
        )
    return rows


def show_data(arch: Arch, space: SearchSpace | None = None) -> dict[str, Any]:
    """Per-layer shapes and costs of ``arch``, totals, and whether it is a member of ``space``."""
    space = (space or SearchSpace.default()).with_task(arch.in_channels, arch.num_classes)
    walk = layers(arch)
    return {
        "arch": arch.to_str(),
        "layers": [
            {
                "layer": layer.name,
                "kind": layer.kind,
                "kernel": layer.kernel,
                "stride": layer.stride,
                "input_shape": list(layer.in_shape),
                "output_shape": list(layer.out_shape),
                "macs": layer.macs,
                "params": layer.params,
            }
            for layer in walk
        ],
        "totals": {
            "layers": len(walk),
            "blocks": arch.depth,
            "macs": count_macs(arch),
            "params": count_params(arch),
            "trainable_params": count_trainable_params(arch),
        },
        "in_space": space.contains(arch),
    }


def sample_archs(space: SearchSpace, n: int, seed: int) -> list[Arch]:
    """``n`` architectures drawn uniformly from ``space`` with ``np.random.default_rng(seed)``."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"--n must be an integer >= 1, got {n!r}")
    rng = np.random.default_rng(seed)
    return [space.sample(rng) for _ in range(n)]


def info_data(space: SearchSpace) -> dict[str, Any]:
    """The space's choices per decision, its size and the baselines it contains."""
    return {
        "choices": {name: list(values) for name, values in space.param_choices().items()},
        "width_multipliers": list(space.width_multipliers),
        "strides": [stage.stride for stage in space.stages],
        "in_channels": space.in_channels,
        "num_classes": space.num_classes,
        "size": space.size(),
        "log10_size": round(space.log10_size(), 3),
        "baselines": [name for name, _ in space.baselines()],
    }


def load_space(config: Path | None) -> SearchSpace:
    """The space of ``config``, or the default one."""
    return SearchSpace.from_toml(config) if config is not None else SearchSpace.default()


# -- presenting --------------------------------------------------------------------------------


def _console() -> Console:
    console = Console()
    if not console.is_terminal:
        # Piped or captured: do not squeeze tables into 80 columns.
        console.width = 160
    return console


def _si(value: int) -> str:
    """4.2M, 47.5K: a count at a glance."""
    for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "K")):
        if value >= scale:
            return f"{value / scale:.1f}{suffix}"
    return str(value)


def _shape(shape: list[int]) -> str:
    return "x".join(str(v) for v in shape)


@app.command("baselines")
def baselines_cmd(as_json: JsonOption = False) -> None:
    """The 16 MobileNetV1 variants: counts beside the paper's (Howard et al. 2017, Tables 6-7)."""
    rows = baselines_data()
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table(title="MobileNetV1 baselines (multiply-adds and parameters in millions)")
    for column in ("name", "alpha", "res", "MACs", "paper", "vs paper", "params", "paper"):
        table.add_column(column, justify="left" if column == "name" else "right")
    for row in rows:
        deviation = row["macs_vs_paper"]
        table.add_row(
            row["name"],
            str(row["alpha"]),
            str(row["resolution"]),
            f"{row['macs'] / 1e6:.1f}",
            number(row["paper_macs_millions"], ".0f"),
            "-" if deviation is None else f"{100 * deviation:+.2f}%",
            f"{row['params'] / 1e6:.2f}",
            number(row["paper_params_millions"], ".1f"),
        )
    _console().print(table)
    typer.echo(
        "Parameters: conv weights + classifier (the paper's convention; BatchNorm excluded). "
        "'-': the paper prints no figure.\n"
    )
    for row in rows:
        typer.echo(f"{row['name']:<22} {row['arch']}")


@app.command("sample")
def sample_cmd(
    n: Annotated[int, typer.Option("--n", help="How many architectures.")] = 10,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the numpy Generator.")] = 0,
    config: ConfigOption = None,
) -> None:
    """N architecture strings drawn uniformly from the space, one per line."""
    space = load_space(config)
    for arch in sample_archs(space, n, seed):
        typer.echo(arch.to_str())


@app.command("show")
def show_cmd(
    arch: Annotated[str, typer.Argument(help="Architecture string, or a baseline name.")],
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Per-layer table of one architecture: shapes, multiply-adds, parameters and totals."""
    data = show_data(parse_arch_or_baseline(arch), load_space(config) if config else None)
    if as_json:
        typer.echo(json.dumps(data, indent=2))
        return
    totals = data["totals"]
    table = Table()
    for column in ("layer", "kind", "k/s", "input", "output", "multiply-adds", "params"):
        table.add_column(column, justify="left" if column in ("layer", "kind") else "right")
    for row in data["layers"]:
        table.add_row(
            row["layer"],
            row["kind"],
            f"{row['kernel']}/{row['stride']}",
            _shape(row["input_shape"]),
            _shape(row["output_shape"]),
            f"{row['macs']:,}",
            f"{row['params']:,}",
        )
    table.add_section()
    blocks = f"{totals['blocks']} block" + ("s" if totals["blocks"] != 1 else "")
    table.add_row("total", blocks, "", "", "", f"{totals['macs']:,}", f"{totals['params']:,}")
    typer.echo(data["arch"])
    _console().print(table)
    typer.echo(
        f"multiply-adds {totals['macs']:,} ({_si(totals['macs'])}); "
        f"parameters {totals['params']:,} ({_si(totals['params'])}), "
        f"{totals['trainable_params']:,} with BatchNorm; "
        f"{'a member of' if data['in_space'] else 'not in'} the search space"
    )


@app.command("info")
def info_cmd(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """The choices per decision, the number of distinct architectures and the baselines inside."""
    data = info_data(load_space(config))
    if as_json:
        typer.echo(json.dumps(data, indent=2))
        return
    table = Table()
    table.add_column("decision")
    table.add_column("choices")
    for name, values in data["choices"].items():
        table.add_row(name, ", ".join(str(v) for v in values))
    typer.echo(f"search space: {data['size']:,} architectures (10^{data['log10_size']})")
    _console().print(table)
    typer.echo(
        f"width multipliers {data['width_multipliers']} (rounded with make_divisible); "
        f"strides {data['strides']}; {data['in_channels']} input channels, "
        f"{data['num_classes']} classes; {len(data['baselines'])} MobileNetV1 baselines inside"
    )
