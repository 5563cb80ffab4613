"""What the client remembers between runs: the store alone, then a real window."""

from __future__ import annotations

import json

import pytest

from qml_client.cli import ClientOptions
from qml_client.places import config_home
from qml_client.settings import Remembered, SettingsStore
from tests.helpers_net import LOOPBACK, WAIT_MS


def test_a_first_run_remembers_nothing(tmp_path):
    assert SettingsStore(tmp_path / "none.json").load() == (Remembered(), None)


def test_what_is_saved_is_loaded(tmp_path):
    store = SettingsStore(tmp_path / "lanchat" / "settings.json")
    remembered = Remembered(
        "10.0.0.7", 4321, "239.1.2.3", 2241, "10.0.0.8", "alice", (1, 2, 640, 480)
    )
    assert store.save(remembered) is None
    assert store.load() == (remembered, None)
    assert store.update(user="bob") is None
    assert store.load()[0].user == "bob" and store.load()[0].geometry == (1, 2, 640, 480)


def _save_many(path: str, user: str, barrier) -> None:
    store = SettingsStore(__import__("pathlib").Path(path))
    barrier.wait()
    for i in range(150):
        assert store.update(user=user, geometry=(i, i, 600 + len(user), 400)) is None


def test_two_windows_saving_at_once_leave_a_readable_file(tmp_path):
    """Two clients closing together once interleaved their writes into one temporary file."""
    import multiprocessing as mp

    ctx = mp.get_context("fork")
    path = str(tmp_path / "lanchat" / "settings.json")
    barrier = ctx.Barrier(2)
    procs = [
        ctx.Process(target=_save_many, args=(path, user, barrier)) for user in ("al", "bartholomew")
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(30)
        assert p.exitcode == 0
    remembered, problem = SettingsStore(tmp_path / "lanchat" / "settings.json").load()
    assert problem is None and remembered.user in ("al", "bartholomew")
    assert list((tmp_path / "lanchat").iterdir()) == [tmp_path / "lanchat" / "settings.json"]


@pytest.mark.parametrize(
    "content",
    ["{not json", "[1, 2]", '{"port": "many"}', '{"user": "a,b"}', '{"group": "10.0.0.1"}',
     '{"geometry": [1, 2]}', '{"port": 70000}',
     pytest.param("[" * 100_000, id="lists-nested-100k-deep"),
     pytest.param('{"a":' * 100_000, id="objects-nested-100k-deep")],
)  # fmt: skip
def test_a_damaged_file_is_reported_and_ignored_never_fatal(tmp_path, content):
    path = tmp_path / "settings.json"
    path.write_text(content)
    remembered, problem = SettingsStore(path).load()
    assert remembered == Remembered()
    assert problem is not None and str(path) in problem and problem.endswith("ignored")


def test_unknown_keys_from_a_newer_version_are_kept_out(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"user": "alice", "theme": "dark"}))
    assert SettingsStore(path).load() == (Remembered(user="alice"), None)


def test_the_command_line_wins_over_what_was_remembered():
    remembered = Remembered(server="10.0.0.7", port=5000, user="alice")
    options = ClientOptions(server="10.0.0.9", user="bob")
    merged = remembered.under(options, given={"server", "user"})
    assert (merged.server, merged.port, merged.user) == ("10.0.0.9", 5000, "bob")


def test_the_xdg_config_home_is_followed(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert config_home() == tmp_path
    assert SettingsStore.default().path == tmp_path / "lanchat" / "settings.json"
    monkeypatch.setenv("XDG_CONFIG_HOME", "relative/dir")  # the spec says: ignore it
    assert config_home().name == ".config"


def test_a_remembered_name_logs_in_at_start_and_a_welcome_is_remembered(
    qtbot, fake_server, tmp_path
):
    from qml_client.app import open_window

    store = SettingsStore(tmp_path / "settings.json")
    where = (LOOPBACK, fake_server.port, fake_server.group, fake_server.group_port, LOOPBACK)
    store.save(Remembered(*where, "alice", (10, 20, 700, 500)))
    chat, remembered = open_window(ClientOptions(), set(), store)
    try:
        assert remembered.user == "alice"
        assert (chat.window.width(), chat.window.height()) == (700, 500)
        chat.window.show()
        chat.bridge.start()
        fake_server.expect(b"login,alice")  # logged in at start, to the remembered server
        fake_server.to_group(b"welcome,alice")
        qtbot.waitUntil(lambda: chat.bridge.inChat, timeout=WAIT_MS)
        chat.bridge.shutdown(say_exit=False)
    finally:
        chat.close(say_exit=False)
    store.update(user=None)
    chat, _ = open_window(ClientOptions(user="bob"), {"user"}, store)  # the command line wins
    try:
        chat.bridge.start()
        fake_server.expect(b"login,bob")
        fake_server.to_group(b"welcome,bob")
        qtbot.waitUntil(lambda: chat.bridge.inChat, timeout=WAIT_MS)
        qtbot.waitUntil(lambda: store.load()[0].user == "bob", timeout=WAIT_MS)
        saved = json.loads(store.path.read_text())
        assert saved["port"] == fake_server.port and saved["group"] == fake_server.group
    finally:
        chat.close(say_exit=False)


def test_a_second_window_does_not_take_over_the_remembered_name_the_first_is_in_as(
    qtbot, fake_server, tmp_path
):
    """The README's "run it again for a second client": the second window starts with the
    name the first was welcomed as.  Logging in would take the name over (our server lets
    a client on the same host do that) and throw the first window out, so it waits."""
    from qml_client.app import open_window
    from qml_client.name_hold import NameHold

    store = SettingsStore(tmp_path / "settings.json")
    where = (LOOPBACK, fake_server.port, fake_server.group, fake_server.group_port, LOOPBACK)
    store.save(Remembered(*where, "alice", geometry=(100, 80, 640, 480)))
    history = tmp_path / "history.sqlite3"

    def window(options: ClientOptions, given: set[str]):  # type: ignore[no-untyped-def]
        chat, _ = open_window(options, given, store, history, NameHold(tmp_path / "names"))
        opened.append(chat)
        return chat

    def next_datagram() -> bytes:  # the next thing any window sent to the server
        got: list[bytes] = []

        def arrived() -> bool:
            try:
                got.append(fake_server.inbox.sock.recv(65536))
            except BlockingIOError:
                return False
            return True

        qtbot.waitUntil(arrived, timeout=WAIT_MS)
        return got[0]

    opened: list = []
    try:
        first = window(ClientOptions(), set())
        first.bridge.start()
        assert next_datagram() == b"login,alice"
        fake_server.to_group(b"welcome,alice")
        qtbot.waitUntil(lambda: first.bridge.inChat, timeout=WAIT_MS)
        assert next_datagram() == b"list,"

        second = window(ClientOptions(), set())
        assert second.bridge.options.user is None
        at = first.window.geometry()  # not on top of the first: offset
        assert (second.window.x(), second.window.y()) == (at.x() + 40, at.y() + 40)
        second.bridge.start()
        shown = [second.bridge.message_model.line(r).line_text
                 for r in range(second.bridge.message_model.rowCount())]  # fmt: skip
        assert "Another window of yours is in this chat as alice" in shown[-1]
        assert shown[-2].startswith("Welcome to lanchat")  # said after the welcome
        second.bridge.send("/login carol")  # what it sends first is the user's choice
        assert next_datagram() == b"login,carol"

        # Given on the command line, the name is the user's choice: a takeover, as asked.
        assert window(ClientOptions(user="alice"), {"user"}).bridge.options.user == "alice"

        first.close()  # says exit, and lets the name go
        assert next_datagram() == b"exit,"
        assert window(ClientOptions(), set()).bridge.options.user == "alice"
    finally:
        for chat in opened:
            chat.close(say_exit=False)


def test_a_relay_style_seen_is_remembered_and_names_senders_from_the_first_line_next_time(
    qtbot, fake_server, tmp_path
):
    """Issue 25, point 1: a newcomer's window named nobody until its user had spoken.  What
    a server was seen to do is remembered for that chat; the next window credits senders
    from the first line (and still corrects itself if the server says otherwise)."""
    from qml_client.app import open_window
    from tests.qt_helpers import echo_first_line, lines, log_in

    store = SettingsStore(tmp_path / "settings.json")
    options = fake_server.options()
    given = {"server", "port", "group", "group_port", "interface"}
    for visit in (1, 2):
        chat, _ = open_window(options, given, store)
        try:
            chat.window.show()
            chat.bridge.start()
            log_in(qtbot, chat, fake_server, "bob")
            fake_server.to_group(b"list,alice,bob")
            fake_server.to_group(b"msg,alice: hi bob")
            named = ("in", "alice", "hi bob", "")
            wanted = named if visit == 2 else ("in", "", "alice: hi bob", "")
            qtbot.waitUntil(lambda w=wanted, c=chat: w in lines(c), timeout=WAIT_MS)
            if visit == 1:  # our echo, attributed: learned, and remembered for this chat
                echo_first_line(qtbot, chat, fake_server, "bob")
                qtbot.waitUntil(lambda: store.load()[0].relay_styles is not None, timeout=WAIT_MS)
            chat.bridge.shutdown(say_exit=False)
        finally:
            chat.close(say_exit=False)
    key = f"{LOOPBACK}:{fake_server.port} {fake_server.group}:{fake_server.group_port}"
    assert store.load()[0].relay_styles == {key: "attributed"}
    # Another chat (another port) is not taken for this one.
    other = Remembered(relay_styles={key: "attributed"}).under(
        ClientOptions(port=fake_server.port + 1), set()
    )
    assert other.relay.value == "unknown"
    assert (
        Remembered(relay_styles={key: "attributed"})
        .under(fake_server.options(), {"relay"})
        .relay.value
        == "unknown"
    )  # --relay given (its default here) wins


def test_damaged_relay_styles_are_reported_and_ignored(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"relay_styles": {"x": "sometimes"}}))
    remembered, problem = SettingsStore(path).load()
    assert remembered == Remembered() and problem is not None


def test_a_chats_title_is_remembered_for_it_alone(tmp_path):
    key = "10.0.0.5:4321 224.1.1.1:2241"
    remembered = Remembered(titles={key: "Lab 3"})
    assert remembered.under(ClientOptions("10.0.0.5"), set()).title == "Lab 3"
    assert remembered.under(ClientOptions("10.0.0.6"), set()).title == ""
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"titles": {key: 5}}))
    assert SettingsStore(path).load()[0] == Remembered()
