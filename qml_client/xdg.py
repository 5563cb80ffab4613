"""Where the client keeps its files: the XDG base directories. No Qt here."""

from __future__ import annotations

import os
from pathlib import Path


def _base(variable: str, fallback: str) -> Path:
    """``$variable``, or ``~/fallback`` where it is unset or relative (as the spec says)."""
    value = os.environ.get(variable, "")
    return Path(value) if os.path.isabs(value) else Path.home() / fallback


def config_home() -> Path:
    """``$XDG_CONFIG_HOME`` or ``~/.config``: settings."""
    return _base("XDG_CONFIG_HOME", ".config")


def data_home() -> Path:
    """``$XDG_DATA_HOME`` or ``~/.local/share``: history, desktop entry, icon."""
    return _base("XDG_DATA_HOME", ".local/share")
