"""``hwnas export``: retrain (optionally) and export a chosen network to PyTorch and ONNX."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the ``export`` command to the top-level app."""
