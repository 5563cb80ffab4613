"""The server as a school's service (issue 30): its systemd unit verifies, and the unit's
own command line starts the server (on loopback here)."""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import sys

import pytest

from server_app.service import systemd_unit
from tests.helpers_net import LOOPBACK, ROOT, WAIT, OutputLines, free_udp_port, unique_group


def _directives(unit: str) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in unit.splitlines() if "=" in line and line[0] != "#")
    return {key: value for key, value in pairs}


def test_the_unit_runs_an_unprivileged_sandboxed_service_that_restarts():
    unit = _directives(systemd_unit())
    for key, value in {
        "DynamicUser": "yes", "NoNewPrivileges": "yes", "ProtectSystem": "strict",
        "PrivateTmp": "yes", "ProtectHome": "yes", "Restart": "on-failure",
        "RestrictAddressFamilies": "AF_INET AF_NETLINK AF_UNIX", "CapabilityBoundingSet": "",
        "ExecReload": "/bin/kill -HUP $MAINPID",
    }.items():  # fmt: skip
        assert unit[key] == value, key
    assert unit["ExecStart"].endswith(" $LANCHAT_OPTIONS")


@pytest.mark.skipif(
    shutil.which("systemd-analyze") is None and not os.environ.get("CI"),
    reason="systemd-analyze is not installed (scripts/setup test installs it)",
)
def test_systemd_analyze_verifies_the_unit(tmp_path):
    path = tmp_path / "lanchat-server.service"
    printed = subprocess.run(
        [sys.executable, "-m", "server_app", "--print-systemd-unit"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    path.write_text(printed.stdout)
    done = subprocess.run(["systemd-analyze", "verify", str(path)], capture_output=True,
                          text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "lanchat-server.service" not in done.stderr, done.stderr  # no warning about it


def test_the_units_command_line_starts_the_server():
    """ExecStart as systemd would run it, with options an admin would put in
    /etc/default/lanchat-server (here: loopback, so the test stays on this machine)."""
    command = _directives(systemd_unit())["ExecStart"]
    port = free_udp_port()
    options = (f"--host {LOOPBACK} --port {port} --group {unique_group()} --group-port "
               f"{free_udp_port()} --interface {LOOPBACK} --title 'Lab 3'")  # fmt: skip
    argv = shlex.split(command.replace("$LANCHAT_OPTIONS", options))
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    server = subprocess.Popen(argv, cwd=ROOT, env=env, text=True, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT)  # fmt: skip
    try:
        output = OutputLines(server.stdout)
        output.wait_for(lambda line: f"is ready on {LOOPBACK}:{port}" in line, "ready", WAIT)
        server.send_signal(signal.SIGTERM)  # systemctl stop
        assert server.wait(WAIT) == 0
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
