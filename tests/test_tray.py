"""A mention reaches a user whose desktop has no notify-send (Windows, macOS, a bare X11
desktop): through the system tray, in a real window on a real X server with a real tray.

Xvfb and trayer (a small panel with a freedesktop system tray) come from Debian; the
client runs as ``tests/tray_child.py`` with a PATH that has no notify-send, against our
real server on loopback.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from tests.helpers_net import ROOT, OutputLines, UdpClient, running_server

NEEDED = ("Xvfb", "trayer")
if any(shutil.which(tool) is None for tool in NEEDED) and not os.environ.get("CI"):
    pytest.skip("Xvfb and trayer are not installed (scripts/setup test installs them)",
                allow_module_level=True)  # fmt: skip
WAIT = 30.0


@pytest.fixture
def display(tmp_path):
    """A fresh X server with a tray on it; both gone afterwards."""
    read, write = os.pipe()
    xvfb = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write), "-screen", "0", "800x600x24", "-nolisten", "tcp"],
        pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    os.close(write)
    with os.fdopen(read) as numbers:
        name = ":" + numbers.readline().strip()
    env = dict(os.environ, DISPLAY=name)
    tray = subprocess.Popen(
        ["trayer", "--edge", "top", "--align", "right", "--widthtype", "pixel",
         "--width", "120", "--height", "24"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        yield name
    finally:
        for process in (tray, xvfb):
            process.terminate()
            process.wait(10)


def test_a_mention_in_the_background_shows_a_tray_message(display, tmp_path):
    no_notify_send = tmp_path / "bin"
    no_notify_send.mkdir()
    env = dict(
        os.environ, DISPLAY=display, QT_QPA_PLATFORM="xcb", PATH=str(no_notify_send),
        PYTHONPATH=str(ROOT),
    )  # fmt: skip
    shot = tmp_path / "tray.png"
    with running_server() as server:
        child = subprocess.Popen(
            [sys.executable, "-m", "tests.tray_child", str(server.port), server.group,
             str(server.group_port), str(tmp_path), str(shot)],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        bob = UdpClient(server.addr)
        try:
            assert child.stdout is not None
            out = OutputLines(child.stdout)
            out.wait_for(lambda line: line == "READY", "alice in the chat, in the back", WAIT)
            bob.send(b"login,bob")
            bob.send(b"msg,alice, the slides are up")
            line = out.wait_for(lambda line: line.startswith(("BALLOON", "NO BALLOON")),
                                "the tray's message", WAIT)  # fmt: skip
            assert child.wait(WAIT) == 0, child.stderr.read() if child.stderr else ""
        finally:
            bob.close()
            if child.poll() is None:
                child.kill()
                child.wait()
    assert line.startswith("BALLOON "), line
    assert "mentioned you" in line and "alice, the slides are up" in line, line
    assert shot.stat().st_size > 0
