"""Applying a create or update document to a row: known columns, the rest into `extra`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def apply_fields(row: Any, changes: Mapping[str, Any], columns: frozenset[str]) -> None:
    """Set each known column; keep every other attribute in the row's `extra` object."""
    extra = dict(getattr(row, "extra", None) or {})
    for key, value in changes.items():
        if key in columns:
            setattr(row, key, value)
        else:
            extra[key] = value
    if hasattr(row, "extra"):
        row.extra = extra
