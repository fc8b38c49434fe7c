"""``hwnas space``: the MobileNetV1 baselines, sampling and per-layer views of architectures."""

from __future__ import annotations

import typer

app = typer.Typer(help="Describe, count and sample the search space.", no_args_is_help=True)
