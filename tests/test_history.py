"""The kept history: the store alone, then a window closed and opened again."""

from __future__ import annotations

import dataclasses
import sqlite3

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from qml_client.history_store import HistoryStore
from qml_client.places import data_home
from qml_client.settings import SettingsStore
from tests.helpers_net import LOOPBACK, WAIT_MS
from tests.qt_helpers import item, lines, text_of, type_line

HERE = ("127.0.0.1", 4321, "239.1.1.1", 2241)


@pytest.fixture
def store(tmp_path):
    history = HistoryStore(tmp_path / "history.sqlite3", HERE)
    yield history
    history.close()


def test_lines_are_kept_in_order_and_found_by_their_words(store):
    store.record([("in", "alice", "hello there"), ("out", "bob", "hi alice")], at=1000.0)
    store.record([("system", "", "carol joined")], at=1001.0)
    assert store.flush()
    assert [line.text for line in store.recent()] == [
        "hello there", "hi alice", "carol joined"
    ]  # fmt: skip
    assert [line.text for line in store.search("alice")] == ["hi alice"]  # not by sender
    assert [line.text for line in store.search("hel")] == ["hello there"]  # a word's start
    assert store.search("ice") == [] and store.search("ere") == []  # not a word's middle
    assert [line.text for line in store.search("hi ALICE")] == ["hi alice"]  # every word
    assert store.search("carol") == []  # a join is the window's line, not someone's
    assert store.search("nothing") == [] and store.search("   ") == []
    store.record([("in", "zoë", "Café at the Straße? ÉTIENNE says yes")], at=1002.0)
    assert store.flush()
    for words in ("cafe", "CAFÉ", "etienne", "étienne says", "cafe?", "straße"):  # accents,
        assert [line.text for line in store.search(words)] == [  # case and signs ignored
            "Café at the Straße? ÉTIENNE says yes"
        ], words
    store.record([("in", "min", "안녕하세요 ガラスの靴 नमस्ते \uff26\uff35\uff2c\uff2c")], at=1003.0)
    assert store.flush()
    full = "\uff46\uff55\uff4c\uff4c"  # fullwidth "full"
    for words in ("안녕", "ガラス", "नमस्ते", full):  # other scripts: found as typed
        assert len(store.search(words)) == 1, words


_LETTERS = "abcé EÉoöOÖ1 2.,?!'-\"ß안녕ガラスﬁ\uff26\uff46नमस्ते\ue000e\u0301x²"  # accents, scripts


@given(
    st.lists(st.text(alphabet=_LETTERS, max_size=24), min_size=1, max_size=6),
    st.text(alphabet=_LETTERS, max_size=8),
)
def test_the_window_and_the_history_find_the_same_lines(texts, words):
    """One rule for the search bar (the view's lines) and the history (SQLite FTS5, the
    history's own table and query): the trial found "cafe" missing café in the window but
    not in the history, and "port" finding "report" in the window only; a review found
    Hangul, kana, ß, ligatures, fullwidth and Devanagari lost by the history."""
    from qml_client.history_store import _SCHEMA, match_query
    from qml_client.search_hits import has_words, search_phrases

    db = sqlite3.connect(":memory:")
    db.executescript(_SCHEMA)
    db.executemany("INSERT INTO lines (text, sender) VALUES (?, 'alice')", [(t,) for t in texts])
    query = match_query(words)
    found = sorted(
        text for (text,) in db.execute(
            "SELECT lines.text FROM lines_text JOIN lines ON lines.id = lines_text.rowid "
            "WHERE lines_text MATCH ?", (query,)
        )
    ) if query else []  # fmt: skip
    phrases = search_phrases(words)
    assert found == sorted(t for t in texts if phrases and has_words(phrases, t))


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


def _window_in_chat(qtbot, fake_server, settings, history_path, name: str):  # type: ignore[no-untyped-def]
    """A window (app.open_window: settings and history kept where the test says) that has
    typed /login NAME and been welcomed by the fake server."""
    from qml_client.app import open_window

    chat, _ = open_window(fake_server.options(), set(), settings, history_path)
    try:
        chat.window.show()
        chat.bridge.start()
        type_line(chat, f"/login {name}")
        fake_server.expect(f"login,{name}".encode())
        fake_server.to_group(f"welcome,{name}".encode())
        qtbot.waitUntil(lambda: chat.bridge.inChat, timeout=WAIT_MS)
    except BaseException:
        chat.close(say_exit=False)  # its worker stops before the test's app goes
        raise
    return chat


def test_chat_close_and_open_again_the_lines_and_a_search_hit_are_there(
    qtbot, fake_server, tmp_path
):
    from qml_client.app import open_window

    settings = SettingsStore(tmp_path / "settings.json")
    history_path = tmp_path / "history.sqlite3"
    options = fake_server.options()
    chat = _window_in_chat(qtbot, fake_server, settings, history_path, "alice")
    try:
        fake_server.to_group(b"msg,bob: the meeting is at five")
        qtbot.waitUntil(lambda: "the meeting is at five" in lines(chat)[-1][2], timeout=WAIT_MS)
    finally:
        chat.close(say_exit=False)  # closing writes the history
    # alice again (her lines are kept under her name), from the command line: the test
    # answers no login, it reads the window's history
    again = dataclasses.replace(options, user="alice")
    chat, _ = open_window(again, {"user"}, settings, history_path)
    try:
        chat.window.show()
        chat.bridge.start()
        shown = [text for _, _, text, _ in lines(chat)]
        assert any("the meeting is at five" in text for text in shown)
        assert any(text.startswith("Earlier conversation above (") for text in shown)
        type_line(chat, "/search meeting")
        qtbot.waitUntil(lambda: "1 line(s) match 'meeting'" in lines(chat)[-1][2], timeout=WAIT_MS)
        assert "the meeting is at five" in lines(chat)[-1][2]
        view = item(chat, "messageView")  # the listing is brought into sight, selected
        listing = len(lines(chat)) - 1
        qtbot.waitUntil(lambda: view.property("selectionFirst") == listing, timeout=WAIT_MS)
        # ... and the search bar shows the words, the view's lines with them counted
        bar, count = item(chat, "searchBar"), item(chat, "searchCount")
        assert bar.property("visible") and text_of(item(chat, "searchField")) == "meeting"
        qtbot.waitUntil(lambda: text_of(count) == "1 in the view", timeout=WAIT_MS)
        assert item(chat, "input").hasActiveFocus()  # the next line typed is a message
        QTest.keyClick(chat.window, Qt.Key.Key_F3)  # the one in the view
        hit = next(
            r
            for r, (kind, _, text, _) in enumerate(lines(chat))
            if kind == "in" and "the meeting is at five" in text
        )
        qtbot.waitUntil(lambda: view.property("selectionFirst") == hit, timeout=WAIT_MS)
        assert view.property("selectionLast") == hit and text_of(count) == "1 of 1"
        assert "search" not in text_of(item(chat, "statusLine"))  # the bar says it all
        QTest.keyClick(chat.window, Qt.Key.Key_Escape)  # Esc closes the bar
        qtbot.waitUntil(lambda: not bar.property("visible"), timeout=WAIT_MS)
        assert view.property("selectionFirst") == -1
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


def test_each_name_reads_the_lines_it_kept_and_older_files_are_read_by_all(tmp_path):
    """Two windows of one account in one chat keep every line each: read together, each
    line came twice and bob's own lines showed in alice's window as hers."""
    path = tmp_path / "history.sqlite3"
    old = sqlite3.connect(path)  # a file from before names were kept
    old.executescript(
        "CREATE TABLE conversations (id INTEGER PRIMARY KEY, server TEXT, port INTEGER, "
        "grp TEXT, group_port INTEGER, UNIQUE (server, port, grp, group_port));"
        "CREATE TABLE lines (id INTEGER PRIMARY KEY, conversation INTEGER, at REAL, "
        "kind TEXT, sender TEXT, text TEXT);"
        "CREATE INDEX lines_by_conversation ON lines (conversation, id);"
        "CREATE VIRTUAL TABLE lines_text USING fts5 (text, sender, content = 'lines', "
        "content_rowid = 'id');"
        "CREATE TRIGGER lines_indexed AFTER INSERT ON lines BEGIN INSERT INTO lines_text "
        "(rowid, text, sender) VALUES (new.id, new.text, new.sender); END;"
        "INSERT INTO conversations VALUES (1, '127.0.0.1', 4321, '239.1.1.1', 2241);"
        "INSERT INTO lines VALUES (1, 1, 999.0, 'in', 'zed', 'from before');"
    )
    old.commit()
    old.close()
    store = HistoryStore(path, HERE)
    try:
        store.record([("out", "bob", "hi all")], at=1000.0, me="bob")
        store.record([("in", "bob", "hi all")], at=1000.0, me="alice")
        store.record([("system", "", "Welcome to lanchat.")], at=1001.0)
        assert store.flush()
        assert [(x.kind, x.text) for x in store.recent(me="alice")] == [
            ("in", "from before"), ("in", "hi all")
        ]  # fmt: skip
        assert [(x.kind, x.text) for x in store.recent(me="bob")] == [
            ("in", "from before"), ("out", "hi all")
        ]  # fmt: skip
        assert [x.text for x in store.recent()] == ["from before", "Welcome to lanchat."]
        assert [x.kind for x in store.search("hi", me="alice")] == ["in"]
        assert [x.text for x in store.search("before", me="bob")] == ["from before"]
    finally:
        store.close()


def test_two_windows_of_one_account_never_show_each_others_lines_as_yours(
    qtbot, fake_server, tmp_path
):
    from qml_client.app import open_window
    from qml_client.name_hold import NameHold

    settings = SettingsStore(tmp_path / "settings.json")
    history_path = tmp_path / "history.sqlite3"
    names = NameHold(tmp_path / "names")
    windows = []
    try:
        for name in ("alice", "bob"):
            chat, _ = open_window(fake_server.options(name), {"user"}, settings, history_path,
                                  names)  # fmt: skip
            windows.append(chat)
            chat.bridge.start()
            fake_server.expect(f"login,{name}".encode())
            fake_server.to_group(f"welcome,{name}".encode())
        alice, bob = windows
        qtbot.waitUntil(lambda: alice.bridge.inChat and bob.bridge.inChat, timeout=WAIT_MS)
        assert bob.bridge.send("hello from bob")
        fake_server.expect(b"msg,hello from bob")
        fake_server.to_group(b"msg,hello from bob")  # a plain relay (the spec's), to both
        qtbot.waitUntil(lambda: ("in", "", "hello from bob", "") in lines(alice),
                        timeout=WAIT_MS)  # fmt: skip
        qtbot.waitUntil(lambda: ("out", "bob", "hello from bob", "delivered") in lines(bob),
                        timeout=WAIT_MS)  # fmt: skip
    finally:
        for chat in windows:
            chat.close(say_exit=False)  # closing writes the history
    for name, kept_as in (("alice", ("in", "")), ("bob", ("out", "bob"))):
        chat, _ = open_window(fake_server.options(name), {"user"}, settings, history_path,
                              NameHold(tmp_path / "names"))  # fmt: skip
        try:
            chat.bridge.start()
            kept = [row[:3] for row in lines(chat) if row[2] == "hello from bob"]
            assert kept == [(*kept_as, "hello from bob")], (name, lines(chat))
        finally:
            chat.close(say_exit=False)


def test_the_history_keeps_the_conversation_not_the_windows_chatter(qtbot, fake_server, tmp_path):
    """Lines, joins and leaves are kept; the window's states, notes, errors and /list
    replies are not (replayed, they read as a debug log of old sessions)."""
    from qml_client.app import open_window

    history_path = tmp_path / "history.sqlite3"
    options = dataclasses.replace(fake_server.options(), user="alice")
    chat, _ = open_window(options, {"user"}, SettingsStore(tmp_path / "s.json"), history_path)
    try:
        chat.window.show()
        chat.bridge.start()  # "Welcome to lanchat..."
        fake_server.expect(b"login,alice")
        fake_server.to_group(b"welcome,alice")  # "You are in the chat as alice."
        qtbot.waitUntil(lambda: chat.bridge.inChat, timeout=WAIT_MS)
        fake_server.to_group(b"welcome,bob")
        qtbot.waitUntil(lambda: "bob joined" in lines(chat)[-1][2], timeout=WAIT_MS)
        assert chat.bridge.send("/nosuchcommand") is False  # an error line
        type_line(chat, "hello bob")
        fake_server.expect(b"msg,hello bob")
        fake_server.to_group(b"msg,alice: hello bob")
        fake_server.to_group(b"msg,bob: hi alice")
        fake_server.to_group(b"bye,bob")
        qtbot.waitUntil(lambda: "bob left" in lines(chat)[-1][2], timeout=WAIT_MS)
    finally:
        chat.close(say_exit=False)
    store = HistoryStore(history_path, options.conversation)
    try:
        kept = [(line.kind, line.sender, line.text) for line in store.recent(me="alice")]
    finally:
        store.close()
    assert kept == [
        ("system", "", "bob joined"),
        ("out", "alice", "hello bob"),
        ("in", "bob", "hi alice"),
        ("system", "", "bob left"),
    ]


def test_a_login_by_name_later_shows_that_names_conversation(qtbot, fake_server, tmp_path):
    """Issue 25, point 6: /login alice in a window that started without a name showed
    none of alice's earlier conversation (only /search found it)."""
    from qml_client.app import open_window

    history_path = tmp_path / "history.sqlite3"
    options = fake_server.options()
    store = HistoryStore(history_path, options.conversation)
    store.record([("in", "bob", "see you at five")], at=1000.0, me="alice")
    store.close()
    chat, _ = open_window(options, set(), SettingsStore(tmp_path / "s.json"), history_path)
    try:
        chat.window.show()
        chat.bridge.start()
        assert not any("see you at five" in text for _, _, text, _ in lines(chat))
        type_line(chat, "/login alice")
        fake_server.expect(b"login,alice")
        fake_server.to_group(b"welcome,alice")
        qtbot.waitUntil(
            lambda: ("in", "bob", "see you at five", "") in lines(chat), timeout=WAIT_MS
        )
        texts = [text for _, _, text, _ in lines(chat)]
        assert texts.index("see you at five") < texts.index("You are in the chat as alice.")
        fake_server.to_group(b"bye,alice")  # out, and in again: not shown twice
        qtbot.waitUntil(lambda: not chat.bridge.inChat, timeout=WAIT_MS)
        type_line(chat, "/login alice")
        fake_server.expect(b"login,alice")
        fake_server.to_group(b"welcome,alice")
        qtbot.waitUntil(lambda: lines(chat)[-1][2] == "You are in the chat as alice.",
                        timeout=WAIT_MS)  # fmt: skip
        assert [text for _, _, text, _ in lines(chat)].count("see you at five") == 1
    finally:
        chat.close(say_exit=False)


def test_a_rename_moves_the_conversation_to_the_new_name_in_order(store):
    """Issue 36, point 5: the lines kept as bob are robert's after /nick robert."""
    store.record([("in", "alice", "hello bob")], at=100.0, me="bob")
    store.record([("out", "bob", "hi alice")], at=101.0, me="bob")
    store.record([("in", "carol", "for alice's window")], at=101.5, me="alice")
    store.rename("bob", "robert")
    store.record([("in", "alice", "hello robert")], at=102.0, me="robert")
    assert store.flush()
    texts = [line.text for line in store.recent(me="robert")]
    assert texts == ["hello bob", "hi alice", "hello robert"]
    assert store.recent(me="bob") == []
    assert [line.text for line in store.search("hello", me="robert")] == [
        "hello robert", "hello bob"
    ]  # fmt: skip
    assert [line.text for line in store.recent(me="alice")] == ["for alice's window"]


def test_a_renamed_window_keeps_its_conversation_through_a_reopen_and_back(
    qtbot, fake_server, tmp_path
):
    """Issue 36, point 5: /nick robert, close, reopen (as robert): what was said as bob
    was gone, "Search the history" found nothing on screen, and /nick bob brought the old
    lines back below newer ones.  Now the conversation is the window's, whole, in order."""
    from qml_client.app import open_window

    settings = SettingsStore(tmp_path / "settings.json")
    history_path = tmp_path / "history.sqlite3"
    options = fake_server.options()

    def nick(chat, old: str, new: str) -> None:
        type_line(chat, f"/nick {new}")
        fake_server.expect(f"login,{new}".encode())
        fake_server.to_group(f"bye,{old}".encode())
        fake_server.to_group(f"welcome,{new}".encode())
        qtbot.waitUntil(lambda: chat.bridge.user == new and chat.bridge.inChat,
                        timeout=WAIT_MS)  # fmt: skip

    def at(chat, text: str) -> list[int]:
        """The rows of the view where someone said ``text`` (with its sender, or not)."""
        rows = enumerate(lines(chat))
        return [row for row, (kind, _, said, _) in rows if kind == "in" and said.endswith(text)]

    chat = _window_in_chat(qtbot, fake_server, settings, history_path, "bob")
    try:
        fake_server.to_group(b"msg,alice: the quiz is on friday")
        qtbot.waitUntil(lambda: "the quiz is on friday" in lines(chat)[-1][2], timeout=WAIT_MS)
        nick(chat, "bob", "robert")
        fake_server.to_group(b"msg,alice: welcome robert")
        qtbot.waitUntil(lambda: "welcome robert" in lines(chat)[-1][2], timeout=WAIT_MS)
        assert at(chat, "the quiz is on friday") == [2]  # not shown again for the new name
    finally:
        chat.close(say_exit=False)
    again = dataclasses.replace(options, user="robert")
    chat, _ = open_window(again, {"user"}, settings, history_path)
    try:
        chat.window.show()
        chat.bridge.start()
        assert at(chat, "the quiz is on friday") < at(chat, "welcome robert")
        type_line(chat, "/search quiz")
        qtbot.waitUntil(lambda: "1 line(s) match 'quiz'" in lines(chat)[-1][2], timeout=WAIT_MS)
        fake_server.expect(b"login,robert")
        fake_server.to_group(b"welcome,robert")
        qtbot.waitUntil(lambda: chat.bridge.inChat, timeout=WAIT_MS)
        fake_server.to_group(b"msg,alice: later")
        qtbot.waitUntil(lambda: "later" in lines(chat)[-1][2], timeout=WAIT_MS)
        nick(chat, "robert", "bob")
        assert len(at(chat, "the quiz is on friday")) == 1
        assert at(chat, "later") > at(chat, "welcome robert")
        assert lines(chat)[-1][2] == "robert is now bob (you)"  # nothing old brought back
    finally:
        chat.close(say_exit=False)
