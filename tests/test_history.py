"""The kept history: the store alone, then a window closed and opened again."""

from __future__ import annotations

import pytest

from qml_client.history_store import HistoryStore, data_home
from qml_client.settings import SettingsStore
from tests.helpers_net import LOOPBACK, WAIT_MS
from tests.qt_helpers import item, lines, type_line

HERE = ("127.0.0.1", 4321, "239.1.1.1", 2241)


@pytest.fixture
def store(tmp_path):
    history = HistoryStore(tmp_path / "history.sqlite3", HERE)
    yield history
    history.close()


def test_lines_are_kept_in_order_and_found_by_their_words(store):
    store.record([("in", "alice", "hello there"), ("out", "bob", "hi alice")], at=1000.0)
    store.record([("system", "", "carol joined the chat")], at=1001.0)
    assert store.flush()
    assert [line.text for line in store.recent()] == [
        "hello there", "hi alice", "carol joined the chat"
    ]  # fmt: skip
    assert [line.text for line in store.search("alice")] == ["hi alice", "hello there"]
    assert [line.text for line in store.search("hel")] == ["hello there"]  # a word's start
    assert [line.text for line in store.search("hi ALICE")] == ["hi alice"]  # every word
    assert store.search("nothing") == [] and store.search("   ") == []


@pytest.mark.parametrize("words", ['"', "a*", "NEAR(", "-x", "a OR", "(", "col:x", "'"])
def test_search_words_are_words_never_query_syntax(store, words):
    store.record([("in", "alice", 'quotes " and ( and - here')])
    assert store.flush()
    store.search(words)  # no sqlite3.OperationalError: every word is quoted


def test_each_conversation_keeps_its_own_lines(tmp_path):
    path = tmp_path / "history.sqlite3"
    here, there = (
        HistoryStore(path, HERE),
        HistoryStore(path, ("10.0.0.9", 4321, "239.1.1.1", 2241)),
    )
    try:
        here.record([("in", "alice", "in this chat")])
        there.record([("in", "zed", "in the other chat")])
        assert here.flush() and there.flush()
        assert [line.text for line in here.recent()] == ["in this chat"]
        assert [line.text for line in there.search("chat")] == ["in the other chat"]
    finally:
        here.close()
        there.close()


def test_the_last_lines_only_are_shown_at_start(store):
    store.record([("in", "alice", f"line {i}") for i in range(500)])
    assert store.flush()
    recent = store.recent(200)
    assert len(recent) == 200 and recent[0].text == "line 300" and recent[-1].text == "line 499"


def test_the_xdg_data_home_is_followed(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert data_home() == tmp_path


def test_chat_close_and_open_again_the_lines_and_a_search_hit_are_there(
    qtbot, fake_server, tmp_path
):
    from qml_client.app import open_window

    settings = SettingsStore(tmp_path / "settings.json")
    history_path = tmp_path / "history.sqlite3"
    options = fake_server.options()
    chat, _ = open_window(options, set(), settings, history_path)
    try:
        chat.window.show()
        chat.bridge.start()
        type_line(chat, "/login alice")
        fake_server.expect(b"login,alice")
        fake_server.to_group(b"welcome,alice")
        qtbot.waitUntil(lambda: chat.bridge.inChat, timeout=WAIT_MS)
        fake_server.to_group(b"msg,bob: the meeting is at five")
        qtbot.waitUntil(lambda: "the meeting is at five" in lines(chat)[-1][2], timeout=WAIT_MS)
    finally:
        chat.close(say_exit=False)  # closing writes the history
    chat, _ = open_window(options, {"user"}, settings, history_path)  # no auto-login
    try:
        chat.window.show()
        chat.bridge.start()
        shown = [text for _, _, text, _ in lines(chat)]
        assert any("the meeting is at five" in text for text in shown)
        assert any("earlier line(s) above" in text for text in shown)
        type_line(chat, "/search meeting")
        qtbot.waitUntil(lambda: "1 line(s) match 'meeting'" in lines(chat)[-1][2], timeout=WAIT_MS)
        assert "the meeting is at five" in lines(chat)[-1][2]
        hit = next(
            r
            for r, (kind, _, text, _) in enumerate(lines(chat))
            if kind == "in" and "the meeting is at five" in text
        )
        view = item(chat, "messageView")  # the hit in the view is brought into sight, selected
        qtbot.waitUntil(lambda: view.property("selectionFirst") == hit, timeout=WAIT_MS)
        assert view.property("selectionLast") == hit and not view.property("following")
    finally:
        chat.close(say_exit=False)
    assert options.server == LOOPBACK


def test_no_history_keeps_nothing_and_says_so_when_asked(qtbot, fake_server, tmp_path):
    from dataclasses import replace

    from qml_client.app import open_window

    history_path = tmp_path / "history.sqlite3"
    options = replace(fake_server.options(), keep_history=False)
    chat, _ = open_window(options, set(), SettingsStore(tmp_path / "s.json"), history_path)
    try:
        chat.window.show()
        chat.bridge.start()
        type_line(chat, "/search anything")
        qtbot.waitUntil(lambda: "No history is kept" in lines(chat)[-1][2], timeout=WAIT_MS)
    finally:
        chat.close(say_exit=False)
    assert not history_path.exists()
