"""How values read in text: the one formatter behind reports, model cards, tables and messages."""

from __future__ import annotations

import json
from typing import Any


def plain(value: Any, *, missing: str = "–", max_json: int | None = None) -> str:
    """One value as short text: floats as ``:g``, None as ``missing``, dicts and lists as JSON.

    JSON longer than ``max_json`` characters is summarised as ``(N entries, in the file)``.
    """
    if value is None:
        return missing
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, dict | list):
        text = json.dumps(value, sort_keys=True)
        if max_json is not None and len(text) > max_json:
            kind = "entries" if isinstance(value, dict) else "items"
            return f"({len(value)} {kind}, in the file)"
        return text
    return str(value)


def number(value: float | None, spec: str, suffix: str = "", *, missing: str = "-") -> str:
    """``value`` formatted with ``spec`` (e.g. ``'.2f'``) and ``suffix``; ``missing`` for None."""
    return missing if value is None else f"{value:{spec}}{suffix}"
