"""``hwnas latency``: build, bundle, import, predict with and validate latency tables."""

from __future__ import annotations

import typer

app = typer.Typer(help="Per-layer latency tables: build, bundle, import, predict, validate.",
                  no_args_is_help=True)
