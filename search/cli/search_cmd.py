"""``hwnas search``: the main job."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the ``search`` command to the top-level app."""
