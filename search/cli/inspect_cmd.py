"""``hwnas pareto`` and ``hwnas report``: look at a run directory."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the ``pareto`` and ``report`` commands to the top-level app."""
