"""Where the client keeps its files (qml_client/places.py), on each OS.

On Linux the paths are the ones every earlier version used, so nobody's settings,
history or names move; on Windows and macOS they are the platform's own, as
``platformdirs`` answers for those platforms (its classes work on any OS).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path, PureWindowsPath

import pytest

from qml_client import places
from qml_client.history_store import default_path as history_path
from qml_client.name_hold import default_directory as names_directory
from qml_client.settings import SettingsStore
from tests.helpers_net import ROOT


@pytest.fixture
def home(monkeypatch, tmp_path) -> Path:
    """A home directory with no XDG variable set: the defaults decide."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("USERPROFILE", str(tmp_path))  # what ~ is on Windows
    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_RUNTIME_DIR"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the defaults of Linux")
def test_linux_keeps_the_paths_of_every_earlier_version(home, monkeypatch):
    assert SettingsStore.default().path == home / ".config" / "lanchat" / "settings.json"
    assert history_path() == home / ".local" / "share" / "lanchat" / "history.sqlite3"
    assert names_directory() == home / ".config" / "lanchat" / "names"  # no runtime dir
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(home / "run"))
    assert names_directory() == home / "run" / "lanchat"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "c"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "d"))
    assert SettingsStore.default().path == home / "c" / "lanchat" / "settings.json"
    assert history_path() == home / "d" / "lanchat" / "history.sqlite3"
    monkeypatch.setenv("XDG_CONFIG_HOME", "relative/dir")  # the XDG spec: ignore it
    assert places.config_dir("linux") == home / ".config" / "lanchat"


def windows_path(path: Path) -> PureWindowsPath:
    return PureWindowsPath(str(path).replace("/", "\\"))


@pytest.mark.portable
def test_windows_keeps_settings_in_appdata_and_the_rest_in_localappdata(home, monkeypatch):
    # platformdirs' documented override of the folders Windows would report
    monkeypatch.setenv("WIN_PD_OVERRIDE_APPDATA", r"C:\Users\ada\AppData\Roaming")
    monkeypatch.setenv("WIN_PD_OVERRIDE_LOCAL_APPDATA", r"C:\Users\ada\AppData\Local")
    assert windows_path(places.config_dir("win32")) == PureWindowsPath(
        r"C:\Users\ada\AppData\Roaming\lanchat"
    )
    assert windows_path(places.data_dir("win32")) == PureWindowsPath(
        r"C:\Users\ada\AppData\Local\lanchat"
    )
    assert windows_path(places.runtime_dir("win32")) == PureWindowsPath(
        r"C:\Users\ada\AppData\Local\Temp\lanchat"
    )
    assert ".config" not in str(places.config_dir("win32"))


@pytest.mark.portable
def test_macos_keeps_them_in_application_support(home):
    support = home / "Library" / "Application Support" / "lanchat"
    assert places.config_dir("darwin") == support
    assert places.data_dir("darwin") == support
    assert (
        places.runtime_dir("darwin") == home / "Library" / "Caches" / "TemporaryItems" / "lanchat"
    )


@pytest.mark.portable
def test_no_other_module_of_the_client_decides_a_folder():
    """One place: nothing else reads the XDG variables or asks platformdirs."""
    for path in sorted((ROOT / "qml_client").glob("*.py")):
        if path.name == "places.py":
            continue
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"XDG_\w+\W*\)|environ.*XDG|platformdirs", text), path.name
