"""Where the client keeps its files, on each OS: this module alone decides. No Qt here.

- Linux and other freedesktop systems: the XDG base directories, exactly as the
  client has always used them (``$XDG_CONFIG_HOME`` or ``~/.config``, and so on), so
  nobody's settings, history or names move.
- Windows and macOS: ``platformdirs``, the conventional answer there: settings in
  ``%APPDATA%\\lanchat`` (they roam with the account), history in
  ``%LOCALAPPDATA%\\lanchat``; both in ``~/Library/Application Support/lanchat`` on
  macOS.  Written by hand before, the XDG layout put them in ``C:\\Users\\u\\.config``.

Every function takes the platform (``sys.platform`` by default) so that each OS's
answer can be checked on any OS.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

APP = "lanchat"


def _xdg(variable: str, fallback: str) -> Path:
    """``$variable``, or ``~/fallback`` where it is unset or relative (as the spec says)."""
    value = os.environ.get(variable, "")
    return Path(value) if os.path.isabs(value) else Path.home() / fallback


def config_home() -> Path:
    """``$XDG_CONFIG_HOME`` or ``~/.config`` (freedesktop systems)."""
    return _xdg("XDG_CONFIG_HOME", ".config")


def data_home() -> Path:
    """``$XDG_DATA_HOME`` or ``~/.local/share``: also where menus find desktop entries."""
    return _xdg("XDG_DATA_HOME", ".local/share")


def _freedesktop(platform: str) -> bool:
    return platform not in ("win32", "cygwin", "darwin")


def _dirs(platform: str, roaming: bool = False):  # type: ignore[no-untyped-def]
    """platformdirs' answer for ``platform`` (its classes work on any OS)."""
    if platform == "darwin":
        from platformdirs.macos import MacOS

        return MacOS(appname=APP)
    from platformdirs.windows import Windows

    return Windows(appname=APP, appauthor=False, roaming=roaming)


def config_dir(platform: str = sys.platform) -> Path:
    """Settings (``settings.json``)."""
    if _freedesktop(platform):
        return config_home() / APP
    return Path(_dirs(platform, roaming=True).user_config_dir)


def data_dir(platform: str = sys.platform) -> Path:
    """The history (``history.sqlite3``)."""
    if _freedesktop(platform):
        return data_home() / APP
    return Path(_dirs(platform).user_data_dir)


def runtime_dir(platform: str = sys.platform) -> Path:
    """The names this account's windows hold (lock files): per user, gone at logout
    where the OS has such a place (``$XDG_RUNTIME_DIR/lanchat``), else the config
    directory's ``names`` (a lock file left there holds nothing once its process is gone)."""
    if _freedesktop(platform):
        runtime = os.environ.get("XDG_RUNTIME_DIR", "")
        if os.path.isabs(runtime):
            return Path(runtime) / APP
        return config_dir(platform) / "names"
    return Path(_dirs(platform).user_runtime_dir)
