"""The names this account's windows hold (qml_client/name_hold.py): real files, real locks."""

from __future__ import annotations

import subprocess
import sys

from qml_client.name_hold import NameHold, default_directory

CHAT = ("127.0.0.1", 4321, "224.1.1.1", 2241)
OTHER_CHAT = ("127.0.0.1", 4321, "224.1.1.2", 2241)


def test_a_held_name_is_held_for_every_other_window_until_it_is_let_go(tmp_path):
    mine, theirs = NameHold(tmp_path), NameHold(tmp_path)
    assert not theirs.held_elsewhere(CHAT, "alice")  # never held here
    assert mine.hold(CHAT, "alice") and mine.holding
    assert theirs.held_elsewhere(CHAT, "alice")
    assert theirs.held_elsewhere(CHAT, "ALICE")  # the server's rule: the same user
    assert not theirs.held_elsewhere(CHAT, "bob")
    assert not theirs.held_elsewhere(OTHER_CHAT, "alice")  # another chat, another name
    assert not theirs.hold(CHAT, "alice") and not theirs.holding
    mine.release()
    assert not mine.holding and not theirs.held_elsewhere(CHAT, "alice")
    assert theirs.hold(CHAT, "alice")


def test_holding_another_name_lets_the_first_go(tmp_path):
    mine, theirs = NameHold(tmp_path), NameHold(tmp_path)
    assert mine.hold(CHAT, "alice")
    assert mine.hold(CHAT, "alice") and theirs.held_elsewhere(CHAT, "alice")  # still held
    assert mine.hold(CHAT, "bob")
    assert not theirs.held_elsewhere(CHAT, "alice") and theirs.held_elsewhere(CHAT, "bob")


def test_a_window_that_dies_lets_its_name_go(tmp_path):
    """No stale lock: the kernel drops it with the process, whatever ended it."""
    code = (
        "import os, sys\n"
        "from qml_client.name_hold import NameHold\n"
        f"assert NameHold(__import__('pathlib').Path({str(tmp_path)!r})).hold({CHAT!r}, 'alice')\n"
        "print('held', flush=True)\n"
        "sys.stdin.readline()\n"
        "os._exit(1)  # no clean-up of any kind\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)  # fmt: skip
    assert proc.stdout is not None and proc.stdin is not None
    assert proc.stdout.readline().strip() == "held"
    assert NameHold(tmp_path).held_elsewhere(CHAT, "alice")
    proc.stdin.write("\n")
    proc.stdin.flush()
    proc.wait(timeout=30)
    assert not NameHold(tmp_path).held_elsewhere(CHAT, "alice")


def test_where_no_lock_can_be_taken_nothing_is_held_and_nothing_is_stopped(tmp_path):
    blocked = tmp_path / "a-file"
    blocked.write_text("not a directory")
    names = NameHold(blocked / "names")
    assert not names.hold(CHAT, "alice") and not names.holding
    assert not names.held_elsewhere(CHAT, "alice")


def test_the_names_live_in_the_runtime_directory_or_else_the_config_one(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "run"))
    assert default_directory() == tmp_path / "run" / "lanchat"
    monkeypatch.delenv("XDG_RUNTIME_DIR")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    assert default_directory() == tmp_path / "config" / "lanchat" / "names"


def test_a_name_in_use_is_asked_about_saying_who_holds_it(tmp_path, qapp):
    """Issue 25, point 6: /nick or /login to a name in use asks first: another window of
    yours (it will leave), someone else (the server decides); this window's own name and a
    free one are not asked about."""
    from qml_client.account import Account
    from qml_client.cli import ClientOptions

    options = ClientOptions()
    other_window = NameHold(tmp_path)
    assert other_window.hold(options.conversation, "alice")
    account = Account(options, None, NameHold(tmp_path), lambda: "bob")
    roster = ["alice", "bob", "carol"]
    mine = account.name_question("alice", "bob", roster)
    assert mine is not None and mine.startswith("Another window of yours is in the chat as alice")
    theirs = account.name_question("carol", "bob", roster)
    assert theirs is not None and theirs.startswith("carol is in the chat already, and not in")
    assert account.name_question("bob", "bob", roster) is None  # this window: the core answers
    assert account.name_question("dave", "bob", roster) is None
