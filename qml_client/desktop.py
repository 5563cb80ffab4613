"""The desktop entry and icon, installed for the current user on request. No Qt here.

``lanchat-client --install-desktop-entry`` copies ``lanchat.desktop`` into
``$XDG_DATA_HOME/applications`` and the icon into the hicolor theme, so the
chat appears in the desktop's menu and its windows are grouped under the
``lanchat`` window class (``StartupWMClass``).  Windows and macOS read no such
files: there it says so, names the program to pin or put in the Dock, and installs
nothing (it said "installed" before, for files nothing would read).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from .places import data_home

HERE = Path(__file__).resolve().parent / "desktop"


def install_desktop_entry(platform: str = sys.platform) -> int:
    """``--install-desktop-entry``: what it did, printed; the exit status."""
    if platform in ("win32", "cygwin", "darwin"):
        where = (
            "pin it to the Start menu or the taskbar"
            if platform != "darwin"
            else "keep it in the Dock while it runs"
        )
        print(
            "lanchat-client: --install-desktop-entry is for Linux desktops (freedesktop menus); "
            f"nothing was installed. The client is {client_command()}: {where}."
        )
        return 1
    for path in install_files():
        print(f"lanchat-client: installed {path}")
    return 0


def install_files(home: Path | None = None) -> list[Path]:
    """Copy the entry and the icon under ``home`` (the XDG data directory); the paths written."""
    base = home or data_home()
    targets = [
        (HERE / "lanchat.desktop", base / "applications" / "lanchat.desktop"),
        (HERE / "lanchat.svg", base / "icons" / "hicolor" / "scalable" / "apps" / "lanchat.svg"),
    ]
    for source, target in targets:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    entry = targets[0][1]
    command = client_command()
    entry.write_text(
        entry.read_text(encoding="utf-8").replace("Exec=lanchat-client", f"Exec={command}"),
        encoding="utf-8",
    )
    return [target for _, target in targets]


def client_command() -> str:
    """The client as the menu must start it: a virtual environment is not on its PATH."""
    for name in ("lanchat-client", "lanchat-client.exe"):  # a venv's bin/ or Scripts\\
        beside = Path(sys.executable).parent / name
        if beside.is_file():
            return str(beside)
    return shutil.which("lanchat-client") or "lanchat-client"
