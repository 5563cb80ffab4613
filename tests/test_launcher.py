"""``python -m lanchat`` (lanchat/launcher.py): the one command that starts the chat on
every OS. Real launchers, real server, real windows (offscreen), on loopback."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lanchat.launcher import (
    default_group,
    multicast_interface,
    no_display_reason,
    server_is_listening,
)
from protocol_lib.io.net import is_multicast
from tests.helpers_net import ROOT, GroupListener, OutputLines, free_udp_port, unique_group

WAIT = 30.0


@pytest.mark.portable
def test_windows_multicasts_out_of_its_card_everyone_else_on_loopback():
    assert multicast_interface("win32") == "0.0.0.0"  # WinError 10051 through 127.0.0.1
    assert multicast_interface("linux") == multicast_interface("darwin") == "127.0.0.1"
    # out of the card, not on the group the room's clients join
    assert default_group("win32") != "224.1.1.1" and is_multicast(default_group("win32"))
    assert default_group("linux") == default_group("darwin") == "224.1.1.1"


@pytest.mark.portable
def test_only_linux_without_a_display_server_is_refused_and_told_what_to_do():
    assert "xvfb-run -a lanchat " in no_display_reason("linux", {})
    said = no_display_reason("linux", {"LANCHAT_COMMAND": "scripts/run-chat"})
    assert "xvfb-run -a scripts/run-chat " in said  # what the user ran
    assert no_display_reason("linux", {"DISPLAY": ":0"}) == ""
    assert no_display_reason("linux", {"WAYLAND_DISPLAY": "wayland-0"}) == ""
    assert no_display_reason("linux", {"QT_QPA_PLATFORM": "offscreen"}) == ""
    assert no_display_reason("win32", {}) == no_display_reason("darwin", {}) == ""


@pytest.mark.portable
@pytest.mark.parametrize("platform", ["linux", "win32"])
@pytest.mark.parametrize("host", ["127.0.0.1", "0.0.0.0"])
def test_a_server_on_loopback_or_on_every_address_is_found(platform, host):
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as server:
        server.bind((host, 0))
        port = server.getsockname()[1]
        assert server_is_listening(port, platform)
    assert not server_is_listening(port, platform)


def launcher(port: int, group: str, group_port: int, user: str, logs: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "lanchat", "--port", str(port), "--group", group,
         "--group-port", str(group_port), "--server-log-dir", str(logs), "--user", user],
        cwd=ROOT, env=dict(os.environ, QT_QPA_PLATFORM="offscreen"), text=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip


def test_the_server_stays_for_the_other_window_and_goes_with_the_last(tmp_path):
    port, group, group_port = free_udp_port(), unique_group(), free_udp_port()
    log = tmp_path / f"server-{port}.log"
    listener = GroupListener(group, group_port)
    first = launcher(port, group, group_port, "alice", tmp_path)
    second = None
    try:
        listener.expect(b"welcome,alice", timeout=WAIT)
        second = launcher(port, group, group_port, "bob", tmp_path / "unused")
        listener.expect(b"welcome,bob", timeout=WAIT)
        first_out = OutputLines(first.stdout)
        # the server's log, where the user started it (and in the file)
        first_out.wait_for(lambda line: "login request has arrived from bob@" in line,
                           "the server's log in the launcher's terminal", WAIT)  # fmt: skip
        first.send_signal(signal.SIGTERM)  # alice closes her window: bob's still needs the server
        first_out.wait_for(lambda line: "keeps running for the 1 other window" in line,
                           "the server kept for bob", WAIT)  # fmt: skip
        listener.expect(b"bye,alice", timeout=WAIT)
        assert first.poll() is None  # the launcher waits, with its server
        second.send_signal(signal.SIGTERM)  # the last window: the server goes too
        assert second.wait(WAIT) == 0
        first_out.wait_for(lambda line: "the last window closed" in line, "the end", WAIT)
        assert first.wait(WAIT) == 0
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()
        listener.close()
    text = log.read_text()
    assert "exit request has arrived from user: alice@" in text
    assert "exit request has arrived from user: bob@" in text
    assert "Multiuser server stopped" in text
    assert not (tmp_path / "unused").exists()  # the second found the server there
    windows = Path(os.environ["XDG_RUNTIME_DIR"]) / "lanchat" / f"windows-{port}"
    assert not windows.exists()


@pytest.mark.parametrize("bad", [["--group", "10.1.2.3"], ["--bogus"]])
def test_a_bad_option_is_said_before_any_server_starts(tmp_path, bad):
    """The window's options are checked first: a mistake costs no server (before, a server
    started, said it would run while windows were open, and the window then refused)."""
    port = free_udp_port()
    result = subprocess.run(
        [sys.executable, "-m", "lanchat", "--port", str(port), *bad,
         "--server-log-dir", str(tmp_path)],
        cwd=ROOT, env=dict(os.environ, QT_QPA_PLATFORM="offscreen"), capture_output=True,
        text=True, timeout=WAIT,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.startswith("lanchat-client: ") and bad[-1] in result.stderr
    assert "server" not in result.stdout and not list(tmp_path.iterdir())  # none started
    windows = Path(os.environ["XDG_RUNTIME_DIR"]) / "lanchat" / f"windows-{port}"
    assert not windows.exists()


def test_a_killed_launcher_leaves_no_server_behind(tmp_path):
    """SIGKILL gives the launcher no chance to stop its server; the OS closes the pipe the
    server reads, and the server says bye for alice and ends (before: it ran on, alone)."""
    port, group, group_port = free_udp_port(), unique_group(), free_udp_port()
    log = tmp_path / f"server-{port}.log"
    log.write_text("an earlier run's lines\n")  # kept: the server appends
    listener = GroupListener(group, group_port)
    chat = launcher(port, group, group_port, "alice", tmp_path)
    try:
        listener.expect(b"welcome,alice", timeout=WAIT)
        chat.kill()
        chat.wait(WAIT)
        listener.expect(b"bye,alice", timeout=WAIT)  # the server's farewell
    finally:
        if chat.poll() is None:
            chat.kill()
            chat.wait()
        listener.close()
    deadline = time.monotonic() + WAIT
    while "Multiuser server stopped" not in log.read_text():
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.05)
    assert "stopping: standard input ended" in log.read_text()
    assert log.read_text().startswith("an earlier run's lines\n")
    assert not server_is_listening(port)


def test_a_window_is_told_that_the_server_is_ours_only_while_a_launcher_runs_it(tmp_path):
    """Issue 25, point 1: the second window (bob's) names alice from her first line, because
    a launcher's own server holds ``server.held``; a server found on the port (someone
    else's, perhaps) is left to show its style."""
    from lanchat.launcher import Windows

    first, second = Windows(tmp_path / "w"), Windows(tmp_path / "w")
    first.register()
    assert not second.server_is_ours()  # a launcher that found a server there
    first.hold_server()
    assert first.server_is_ours() and second.server_is_ours()
    first.let_server_go()
    assert not second.server_is_ours()
    first.unregister()
    first.remove_if_empty()
    assert not (tmp_path / "w").exists()


def test_the_window_of_a_server_of_ours_is_told_it_names_senders():
    from lanchat.launcher import _options, _window_args
    from qml_client.cli import parse_options

    args, rest = _options(["--user", "bob"])
    assert parse_options(_window_args(args, rest, ours=True)).relay.value == "attributed"
    assert parse_options(_window_args(args, rest, ours=False)).relay.value == "unknown"
    args, rest = _options(["--relay", "plain"])  # the user's word wins
    assert parse_options(_window_args(args, rest, ours=True)).relay.value == "plain"


def test_started_again_it_opens_the_last_chat_on_the_network_not_a_chat_of_one(
    tmp_path, monkeypatch
):
    """A trial: a student joined the class's chat from run-chat's window, closed it and ran
    run-chat again: the window logged him in to the loopback server, a chat of one, and
    remembered that instead.  Now the launcher opens the remembered chat on the network
    (no server of its own), unless the command line names a chat or asks --local; a chat
    this computer hosted (its own address) or a loopback one is not reopened.  (The
    window is replaced by a recorder: nothing is sent anywhere.)"""
    import lanchat.launcher as launcher_module
    import qml_client.__main__ as client_module
    from qml_client.settings import SettingsStore

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    for variable in ("LANCHAT_PORT", "LANCHAT_GROUP", "LANCHAT_GROUP_PORT"):
        monkeypatch.delenv(variable, raising=False)
    opened: list[list[str]] = []
    monkeypatch.setattr(client_module, "main", lambda argv: opened.append(argv) or 0)
    store = SettingsStore.default()
    store.update(server="10.77.0.1", port=4321, group="224.1.1.1", group_port=2241,
                 user="samuel", titles={})  # fmt: skip
    assert launcher_module.main(["--user", "sam"]) == 0
    assert opened == [["--user", "sam"]]  # the remembered chat; no server started here
    assert launcher_module.last_chat_elsewhere([]) == "10.77.0.1:4321"
    assert launcher_module.last_chat_elsewhere(["10.77.0.2"]) is None  # a chat named
    chose = lambda argv: launcher_module._chose_local(launcher_module._options(argv)[0])  # noqa: E731
    assert chose(["--port", "5000"]) and chose(["--po", "5000"])
    assert chose(["--group=239.1.2.3"]) and not chose(["--user", "sam"])
    for mine in ("127.0.0.1", *launcher_module.local_addresses()):
        store.update(server=mine)  # a chat on this computer: it ended with its window
        assert launcher_module.last_chat_elsewhere([]) is None
