"""What the Windows and macOS job (.github/workflows/portable.yml) checks after installing
the package as a user would: every module imports, every command answers ``--help``, and
the conformance kit passes our own server on this OS's local group.

The same script runs here on Linux, in an interpreter made to lack what Windows lacks
(tests/test_windows_macos.py), so what the job runs is known to work before a runner
ever sees it.  Traffic stays on this machine: the server listens on 127.0.0.1 and its
group is the launcher's local one (loopback; Windows: the private 239.255.76.67 with TTL 1).

    python scripts/portable_smoke.py        # exit status 0 when everything holds
"""

from __future__ import annotations

import importlib
import importlib.metadata
import pkgutil
import socket
import subprocess
import sys

PACKAGES = ("protocol_lib", "server_app", "qml_client", "lanchat", "web_gateway")
DISTRIBUTION = "lanchat"


def modules() -> list[str]:
    """Every module of every package, imported (``__main__`` modules run their program
    when imported: their commands are checked below); what failed, one line each."""
    failed = []
    for package in PACKAGES:
        root = importlib.import_module(package)
        for found in pkgutil.walk_packages(root.__path__, f"{package}."):
            if found.name.endswith(".__main__"):
                continue
            try:
                importlib.import_module(found.name)
            except Exception as exc:  # reported, and the job fails
                failed.append(f"import {found.name}: {type(exc).__name__}: {exc}")
    return failed


def commands() -> list[str]:
    """Every console and GUI script the package installs, run with ``--help`` through its
    entry point (a GUI script on Windows has no console to print to: its function is the
    same); what failed, one line each."""
    failed = []
    points = [
        point
        for point in importlib.metadata.distribution(DISTRIBUTION).entry_points
        if point.group in ("console_scripts", "gui_scripts")
    ]
    if not points:
        return [f"no commands found for {DISTRIBUTION} (is it installed?)"]
    for point in points:
        module, _, function = point.value.partition(":")
        code = (
            f"import sys; from {module} import {function} as main; "
            f"sys.argv = [{point.name!r}, '--help']; sys.exit(main())"
        )
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
        )
        if done.returncode != 0 or "usage:" not in done.stdout:
            tail = (done.stdout + done.stderr).strip()[-400:]
            failed.append(f"{point.name} --help: status {done.returncode}: {tail}")
        else:
            print(f"  {point.name} --help: ok")
    return failed


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def kit() -> list[str]:
    """``lanchat-check server`` against our server started by the kit, on this OS's local
    group: every row must pass (the TTL may be "unknown here")."""
    from lanchat.check import main as check
    from lanchat.launcher import default_group, multicast_interface

    port, group_port = _free_udp_port(), _free_udp_port()
    group, interface = default_group(), multicast_interface()
    where = ["--group", group, "--group-port", str(group_port), "--interface", interface]
    command = f'"{sys.executable}" -m server_app --host 127.0.0.1 --port {port} ' + " ".join(where)
    status = check(["server", f"127.0.0.1:{port}", *where, "--cmd", command])
    return [] if status == 0 else [f"lanchat-check server: status {status} (rows above)"]


def main() -> int:
    failed = []
    for name, step in (("modules", modules), ("commands", commands), ("kit", kit)):
        print(f"{name}:", flush=True)
        problems = step()
        failed += problems
        print(f"  {name}: {'ok' if not problems else 'FAILED'}", flush=True)
    for line in failed:
        print(f"FAILED {line}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
