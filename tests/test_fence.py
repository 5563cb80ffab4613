"""The I/O fence: the sans-I/O core never reaches for sockets, argparse or Qt.

aioquic keeps ``quic/`` (no I/O) apart from ``asyncio/`` (I/O); here the core is
``protocol_lib``'s own modules and the I/O helpers live in ``protocol_lib.io``.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.helpers_net import ROOT, fresh_python

CORE = sorted((ROOT / "protocol_lib").glob("*.py"))
IO_MODULES = {"socket", "select", "selectors", "asyncio", "argparse", "ssl", "PySide6", "shiboken6"}


def imported_names(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = "." * node.level + (node.module or "")
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def test_no_core_module_names_an_io_module():
    assert len(CORE) >= 8, "the core's modules were not found"
    for path in CORE:
        for name in imported_names(path):
            top = name.lstrip(".").split(".")[0]
            assert top not in IO_MODULES, f"{path.name} imports {name}"
            assert not name.startswith((".io", "protocol_lib.io")), f"{path.name} imports {name}"


def test_no_module_of_protocol_lib_knows_command_lines():
    """Issue 39, point 8: its I/O side held the programs' argparse helpers; they are the
    programs' (lanchat/options.py).  None of protocol_lib, io/ included, names argparse."""
    every = sorted((ROOT / "protocol_lib").rglob("*.py"))
    assert any(path.parent.name == "io" for path in every)
    for path in every:
        assert "argparse" not in {n.split(".")[0] for n in imported_names(path)}, path


def test_importing_the_whole_core_loads_no_io_module():
    """What the core pulls in at run time, its dependencies included (transitions, ...)."""
    modules = ", ".join(f"protocol_lib.{p.stem}" for p in CORE if p.stem != "__init__")
    code = f"import sys, protocol_lib, {modules}\nprint(' '.join(sorted(m for m in sys.modules)))"
    result = fresh_python(code)
    assert result.returncode == 0, result.stderr
    loaded = set(result.stdout.split())
    assert "protocol_lib.wire" in loaded  # the check looks at what it should
    assert not {m.split(".")[0] for m in loaded} & IO_MODULES
    assert not any(m.startswith("protocol_lib.io") for m in loaded)


def test_a_client_never_loads_the_server():
    """protocol_lib imports the server's names on first use (16 ms of a window's start)."""
    code = (
        "import sys, os\n"
        "os.environ['QT_QPA_PLATFORM'] = 'offscreen'\n"
        "import protocol_lib, qml_client.app\n"
        "from protocol_lib import ClientCore, ClientConfig\n"
        "assert 'protocol_lib.server' not in sys.modules, 'server loaded'\n"
        "assert 'protocol_lib.federation' not in sys.modules, 'federation loaded'\n"
        "from protocol_lib import ServerCore, SendToGroup\n"
        "assert ServerCore.__module__ == 'protocol_lib.server'\n"
        "missing = [n for n in protocol_lib.__all__ if not hasattr(protocol_lib, n)]\n"
        "assert not missing, missing\n"
        "try:\n"
        "    protocol_lib.NoSuchThing\n"
        "except AttributeError:\n"
        "    pass\n"
        "else:\n"
        "    raise SystemExit('an unknown name was found')\n"
    )
    result = fresh_python(code)
    assert result.returncode == 0, result.stderr
