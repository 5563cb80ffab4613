"""protocol_lib and the server must work on a machine without Qt (the core install)."""

from __future__ import annotations

import subprocess

from tests.helpers_net import fresh_python

BLOCK_QT = """
import sys
class NoQt:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("PySide6", "shiboken6"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
sys.meta_path.insert(0, NoQt())
"""


def test_protocol_lib_server_and_presenter_import_and_run_without_qt():
    code = BLOCK_QT + (
        "import protocol_lib, server_app.__main__, qml_client.presenter, qml_client.recall\n"
        "import qml_client.attention, qml_client.search_hits, qml_client.places\n"
        "from protocol_lib import ServerCore\n"
        "out = ServerCore().receive(b'login,bob', ('127.0.0.1', 1), 0.0)\n"
        "assert out[-1].data == b'welcome,bob'\n"
        "assert not any(m.startswith(('PySide6', 'shiboken6')) for m in sys.modules)\n"
        "print('ok')\n"
    )
    result = fresh_python(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def run_client_without_qt(*args: str) -> subprocess.CompletedProcess[str]:
    code = BLOCK_QT + "import runpy; runpy.run_module('qml_client', run_name='__main__')"
    return fresh_python(code, *args)


def test_client_help_and_version_work_without_qt():
    help_run = run_client_without_qt("--help")
    assert help_run.returncode == 0 and "usage: lanchat-client" in help_run.stdout
    version = run_client_without_qt("--version")
    assert version.returncode == 0 and version.stdout.startswith("lanchat-client ")


def test_client_without_qt_says_in_one_line_how_to_install_it():
    result = run_client_without_qt("127.0.0.1")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "lanchat-client: the chat window needs PySide6, which is not installed here; "
        "install it with: pip install 'lanchat[gui]'"
    ]


def test_the_desktop_entry_installs_without_qt(tmp_path):
    import os

    env = dict(os.environ, XDG_DATA_HOME=str(tmp_path))
    code = BLOCK_QT + "import runpy; runpy.run_module('qml_client', run_name='__main__')"
    result = fresh_python(code, "--install-desktop-entry", env=env)
    assert result.returncode == 0, result.stderr
    entry = tmp_path / "applications" / "lanchat.desktop"
    icon = tmp_path / "icons" / "hicolor" / "scalable" / "apps" / "lanchat.svg"
    assert entry.is_file() and icon.is_file()
    text = entry.read_text()
    (exec_line,) = [line for line in text.splitlines() if line.startswith("Exec=")]
    assert exec_line.endswith("lanchat-client") and "StartupWMClass=lanchat" in text
    assert "<svg" in icon.read_text()
