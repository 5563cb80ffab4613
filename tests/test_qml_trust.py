"""Trust through the real Qt client: markup stays text, marks are honest, forgeries do nothing."""

from __future__ import annotations

import http.server
import threading

import pytest
from PySide6.QtCore import QMetaObject, QObject, Qt
from PySide6.QtQuick import QQuickItem
from PySide6.QtTest import QTest

from protocol_lib import ClientConfig
from protocol_lib.ratelimit import RateLimit
from tests.helpers_net import WAIT_MS, GroupSender
from tests.qt_helpers import chat_window, item, lines, log_in, qml_value, text_of, type_line


@pytest.fixture
def server(fake_server):
    return fake_server


class CountingHttp:
    """A local HTTP listener that counts every request made to it (it must see none)."""

    def __init__(self) -> None:
        hits = self.hits = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                hits.append(self.path)
                self.send_response(404)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def is_plain_text(obj: QQuickItem) -> bool:
    """Whether a Text/Label shows its text as plain text (asked in QML: PySide6 cannot
    convert the TextFormat enum)."""
    return qml_value(obj, "textFormat === Text.PlainText") is True


def delegates(view: QQuickItem) -> list[QQuickItem]:
    return [c for c in view.property("contentItem").childItems() if c.property("text")]


def test_markup_in_names_and_lines_is_shown_literally_and_fetches_nothing(qtbot, server):
    web = CountingHttp()
    img = f'<img src="http://127.0.0.1:{web.port}/pwned.png">'
    try:
        with chat_window(qtbot, server.options()) as chat:
            log_in(qtbot, chat, server, name="<h1>BIG</h1>")
            server.to_group(b"list,<h1>BIG</h1>,<b>bold</b>")
            server.to_group(b"welcome,<i>it</i>")
            server.to_group(f"welcome,{img}".encode())  # a name with a colon: shown raw
            server.to_group(f"msg,{img} and <h1>x</h1>".encode())
            server.to_group(f"Note {img}".encode())  # a raw foreign line
            qtbot.waitUntil(lambda: lines(chat)[-1][0] == "raw", timeout=WAIT_MS)
            users = chat.bridge.user_model.users
            assert "<b>bold</b>" in users and "<i>it</i>" in users
            chat.window.grabWindow()  # render everything once, as a screen would
            shown = [text_of(d) for d in delegates(item(chat, "userList"))]
            assert any("<b>bold</b>" in t for t in shown), shown
            assert all(is_plain_text(d) for d in delegates(item(chat, "userList")))
            status = item(chat, "statusLine")
            assert "<h1>BIG</h1>" in text_of(status) and is_plain_text(status)
            assert any(row[2] == f"{img} and <h1>x</h1>" for row in lines(chat))
            # Give an image fetch, had one been started, time to reach the listener.
            qtbot.wait(300)
            chat.window.grabWindow()
        assert web.hits == []
    finally:
        web.close()


def test_bidi_and_invisible_characters_from_others_are_made_visible(qtbot, server):
    with chat_window(qtbot, server.options()) as chat:
        log_in(qtbot, chat, server)
        server.to_group("welcome,al\u200bice".encode())
        server.to_group("msg,evil \u202etxt.exe".encode())
        qtbot.waitUntil(lambda: any("<U+202E>" in row[2] for row in lines(chat)), timeout=WAIT_MS)
        texts = [row[2] for row in lines(chat)]
        assert "al<U+200B>ice joined" in texts
        assert "evil <U+202E>txt.exe" in texts


def test_lines_typed_faster_than_the_pace_show_queued_then_pending_then_delivered(qtbot, server):
    config = ClientConfig(send_limit=RateLimit(burst=1, per_second=10))
    with chat_window(qtbot, server.options(), config) as chat:
        log_in(qtbot, chat, server)
        for word in ("one", "two", "three"):
            type_line(chat, word)
        statuses = {row[2]: row[3] for row in lines(chat) if row[0] == "out"}
        assert statuses["three"] == "queued"
        for word in ("one", "two", "three"):
            server.expect(f"msg,{word}".encode())  # all go out, in order, paced
            server.to_group(f"msg,bob: {word}".encode())
        qtbot.waitUntil(
            lambda: [row[3] for row in lines(chat) if row[0] == "out"] == ["delivered"] * 3,
            timeout=WAIT_MS,
        )


def test_forged_bye_from_another_host_is_marked_and_changes_nothing(qtbot, server):
    forger = GroupSender(server.group, server.group_port, source="127.0.0.2")
    try:
        with chat_window(qtbot, server.options()) as chat:
            log_in(qtbot, chat, server)
            forger.send(b"bye,bob")
            qtbot.waitUntil(lambda: lines(chat)[-1][0] == "foreign", timeout=WAIT_MS)
            assert lines(chat)[-1][1:3] == ("127.0.0.2", "bye,bob")
            assert chat.bridge.state == "in chat"
            assert chat.bridge.user_model.users == ("bob",)
    finally:
        forger.close()


def test_takeover_is_announced_and_login_takes_the_name_back(qtbot, server):
    with chat_window(qtbot, server.options()) as chat:
        log_in(qtbot, chat, server)
        server.to_group(b"welcome,bob")  # another client on this host logged in as bob
        qtbot.waitUntil(lambda: chat.bridge.state == "logged out", timeout=WAIT_MS)
        assert any("took the name over" in row[2] for row in lines(chat) if row[0] == "error")
        assert "logged out" in text_of(item(chat, "statusLine"))
        asked: list[str] = []
        chat.bridge.nameQuestion.connect(asked.append)
        type_line(chat, "/login")  # bob is in the chat (the other client): asked first
        dialog = chat.window.findChild(QObject, "nameDialog")
        qtbot.waitUntil(lambda: dialog.property("opened"), timeout=WAIT_MS)
        answer = chat.window.findChild(QObject, "nameAnswer")
        qtbot.waitUntil(lambda: answer.property("activeFocus"), timeout=WAIT_MS)
        assert asked and asked[0].startswith("bob is in the chat already, and not in a window")
        assert text_of(chat.window.findChild(QObject, "nameQuestion")) == asked[0]
        QTest.keyClick(chat.window, Qt.Key.Key_Return)  # the dialog has the keys: yes
        server.expect(b"login,bob")


def test_list_command_writes_the_user_list_into_the_chat(qtbot, server):
    with chat_window(qtbot, server.options()) as chat:
        log_in(qtbot, chat, server)
        type_line(chat, "/list")
        server.expect(b"list,")
        server.to_group(b"list,alice,bob")
        qtbot.waitUntil(
            lambda: ("system", "", "In the chat (2): alice, bob", "") in lines(chat),
            timeout=WAIT_MS,
        )


def test_a_long_paste_asks_first_then_sends_one_message_per_line(qtbot, server):
    with chat_window(qtbot, server.options()) as chat:
        log_in(qtbot, chat, server)
        asked = []
        chat.bridge.pasteConfirmationNeeded.connect(lambda n, preview, why, title: asked.append(n))
        paste = "\n".join(f"line {i}" for i in range(8))
        assert chat.bridge.send(paste) is False  # waits for the user's yes
        assert asked == [8]
        dialog = chat.window.findChild(QObject, "pasteDialog")
        qtbot.waitUntil(lambda: dialog.property("opened"), timeout=WAIT_MS)
        assert "8 lines" in text_of(dialog, "title")
        QMetaObject.invokeMethod(dialog, "accept")  # the user clicks Yes
        for i in range(8):
            server.expect(f"msg,line {i}".encode())  # one message per line, in order
        qtbot.waitUntil(lambda: text_of(item(chat, "input")) == "", timeout=WAIT_MS)


def test_one_message_too_long_is_offered_as_messages_not_as_lines(qtbot, server):
    """Issue 36, point 6: a long message split in two was asked as "Send 2 lines?"."""
    with chat_window(qtbot, server.options()) as chat:
        log_in(qtbot, chat, server)
        long = " ".join(["word"] * 300)  # 1,499 bytes: two messages
        assert chat.bridge.send(long) is False
        dialog = chat.window.findChild(QObject, "pasteDialog")
        qtbot.waitUntil(lambda: dialog.property("opened"), timeout=WAIT_MS)
        assert text_of(dialog, "title") == "Send it as 2 messages?"
        QMetaObject.invokeMethod(dialog, "accept")
        from qml_client.commands import split_to_fit

        parts = split_to_fit(long, chat.bridge.core.text_room())
        assert len(parts) == 2
        for part in parts:
            server.expect(f"msg,{part}".encode())


def _paste_and_wait_for_the_question(qtbot, chat, count: int) -> QObject:
    type_line(chat, "", enter=False)  # the window active, the input focused, as a user's
    assert chat.bridge.send("\n".join(f"pasted {i}" for i in range(count))) is False
    dialog = chat.window.findChild(QObject, "pasteDialog")
    qtbot.waitUntil(lambda: dialog.property("opened"), timeout=WAIT_MS)
    answer = chat.window.findChild(QObject, "pasteAnswer")
    qtbot.waitUntil(lambda: answer.property("activeFocus"), timeout=WAIT_MS)
    return dialog


def test_the_paste_question_shows_the_lines_and_enter_sends_them(qtbot, server):
    with chat_window(qtbot, server.options()) as chat:
        log_in(qtbot, chat, server)
        _paste_and_wait_for_the_question(qtbot, chat, 12)
        preview = text_of(chat.window.findChild(QObject, "pastePreview"))
        assert preview.splitlines()[:2] == ["pasted 0", "pasted 1"]
        assert preview.splitlines()[-1] == "\u2026 and 4 more"
        QTest.keyClick(chat.window, "y")  # a stray key: not into the input field behind
        assert text_of(item(chat, "input")) == ""
        QTest.keyClick(chat.window, Qt.Key.Key_Return)  # Enter: send
        for i in range(12):
            server.expect(f"msg,pasted {i}".encode())


def test_escape_keeps_the_paste_back(qtbot, server):
    with chat_window(qtbot, server.options()) as chat:
        log_in(qtbot, chat, server)
        dialog = _paste_and_wait_for_the_question(qtbot, chat, 7)
        QTest.keyClick(chat.window, Qt.Key.Key_Escape)
        qtbot.waitUntil(lambda: not dialog.property("opened"), timeout=WAIT_MS)
        qtbot.waitUntil(lambda: item(chat, "input").property("activeFocus"), timeout=WAIT_MS)
        assert chat.bridge.confirmPaste() is False  # nothing waits any more
        type_line(chat, "after")
        server.expect(b"msg,after")  # the first thing sent: none of the paste went


def test_near_the_limit_the_input_counts_the_bytes_left_and_over(qtbot, server):
    """The protocol allows 1,024 bytes a datagram and the relay adds the name: the input
    says how many are left before Enter would refuse the line, and how many too many."""
    with chat_window(qtbot, server.options()) as chat:
        log_in(qtbot, chat, server)  # as bob: "msg,bob: " leaves 1,015 bytes of text
        counter = chat.window.findChild(QObject, "byteCounter")
        assert not counter.property("visible")
        field = item(chat, "input")
        field.setProperty("text", "x" * 960)
        qtbot.waitUntil(lambda: counter.property("visible"), timeout=WAIT_MS)
        assert text_of(counter) == "55 bytes left"
        field.setProperty("text", "é" * 510)  # 1,020 bytes in 510 characters
        qtbot.waitUntil(lambda: text_of(counter) == "5 bytes too long", timeout=WAIT_MS)
        field.setProperty("text", "/search " + "x" * 2000)  # a command: not a chat line
        qtbot.waitUntil(lambda: not counter.property("visible"), timeout=WAIT_MS)
        field.setProperty("text", "hi")
        assert not counter.property("visible")


def test_several_lines_in_the_input_are_shown_as_lines_and_enter_sends_each(qtbot, server):
    """Issue 25, point 5: a multi-line text showed glued together in a one-line field."""
    with chat_window(qtbot, server.options()) as chat:
        log_in(qtbot, chat, server)
        field = item(chat, "input")
        type_line(chat, "pasted one", enter=False)
        QTest.keyClick(chat.window, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
        type_line(chat, "pasted two", enter=False)
        assert text_of(field) == "pasted one\npasted two"
        assert field.property("lineCount") == 2  # shown as two lines
        QTest.keyClick(chat.window, Qt.Key.Key_Return)
        server.expect(b"msg,pasted one")
        server.expect(b"msg,pasted two")
        qtbot.waitUntil(lambda: text_of(field) == "", timeout=WAIT_MS)


def test_a_paste_sent_with_enter_leaves_the_keys_to_its_question(qtbot, server):
    """The question opened by Enter in the field: the field took the keys back at once
    (submit focused it after send), and Enter then did nothing in the dialog."""
    with chat_window(qtbot, server.options()) as chat:
        log_in(qtbot, chat, server)
        field = item(chat, "input")
        type_line(chat, "", enter=False)
        field.setProperty("text", "\n".join(f"pasted {i}" for i in range(9)))
        QTest.keyClick(chat.window, Qt.Key.Key_Return)
        answer = chat.window.findChild(QObject, "pasteAnswer")
        qtbot.waitUntil(lambda: answer.property("activeFocus"), timeout=WAIT_MS)
        QTest.keyClick(chat.window, Qt.Key.Key_Return)  # the dialog's Enter: send
        for i in range(9):
            server.expect(f"msg,pasted {i}".encode())


def test_a_line_over_the_limit_is_offered_as_several_that_fit(qtbot, server):
    """Issue 25, point 7: an 1,100-byte paste was refused, with no way on but cutting it."""
    with chat_window(qtbot, server.options()) as chat:
        log_in(qtbot, chat, server)
        asked: list[tuple[int, str]] = []
        chat.bridge.pasteConfirmationNeeded.connect(
            lambda n, preview, why, title: asked.append((n, why))
        )
        words = " ".join(f"word{i:03d}" for i in range(140))  # 1,119 bytes
        field = item(chat, "input")
        type_line(chat, "", enter=False)
        field.setProperty("text", words)
        assert "too long" in text_of(item(chat, "byteCounter"))
        QTest.keyClick(chat.window, Qt.Key.Key_Return)
        answer = chat.window.findChild(QObject, "pasteAnswer")
        qtbot.waitUntil(lambda: answer.property("activeFocus"), timeout=WAIT_MS)
        assert asked[0][0] == 2 and "at most 1,015 bytes" in asked[0][1]
        QTest.keyClick(chat.window, Qt.Key.Key_Return)  # send them
        first = " ".join(f"word{i:03d}" for i in range(127))  # 1,015 bytes: exactly full
        server.expect(f"msg,{first}".encode())
        server.expect(("msg," + " ".join(f"word{i:03d}" for i in range(127, 140))).encode())
        qtbot.waitUntil(lambda: text_of(field) == "", timeout=WAIT_MS)


def test_no_welcome_makes_the_window_say_why(qtbot):
    """Issue 26, point 4: "no welcome came" was all a user got; now the doctor looks, and
    names the cause (here: nothing listens at that port) with what to do."""
    from qml_client.cli import ClientOptions
    from tests.helpers_net import LOOPBACK, free_udp_port, unique_group

    nobody = ClientOptions(LOOPBACK, free_udp_port(), unique_group(), free_udp_port(), LOOPBACK)
    fast = ClientConfig(login_timeout=0.3)
    with chat_window(qtbot, nobody, fast) as chat:
        type_line(chat, "/login alice")
        qtbot.waitUntil(
            lambda: any(t.startswith("Nothing listens at 127.0.0.1") for _, _, t, _ in lines(chat)),
            timeout=WAIT_MS,
        )
        said = next(t for _, _, t, _ in lines(chat) if t.startswith("Nothing listens"))
        assert "that the server runs there" in said


def test_doctor_on_demand_in_a_working_chat_finds_nothing_wrong(qtbot):
    """Our server answers the probe's request on the group while the doctor looks (what
    the window heard before does not count: test_qml_client's stale-doctor test)."""
    from qml_client.cli import ClientOptions
    from tests.helpers_net import LOOPBACK, ServerProcess

    real = ServerProcess().start()
    options = ClientOptions(LOOPBACK, real.port, real.group, real.group_port, LOOPBACK)
    try:
        with chat_window(qtbot, options) as chat:
            type_line(chat, "/login alice")
            qtbot.waitUntil(lambda: chat.bridge.inChat, timeout=WAIT_MS)
            type_line(chat, "/doctor")
            qtbot.waitUntil(lambda: lines(chat)[-1][2].startswith("No problem found."),
                            timeout=WAIT_MS)  # fmt: skip
    finally:
        real.kill()


def test_closing_the_window_that_hosts_the_chat_asks_first(qtbot, server):
    """Issue 26, point 3: closing the host's window ends the chat for everyone: asked."""
    from types import SimpleNamespace

    with chat_window(qtbot, server.options()) as chat:
        log_in(qtbot, chat, server)
        chat.bridge.set_hosting(SimpleNamespace(users=2))  # as CurrentWindow.host does
        chat.window.close()  # the window manager's close button
        dialog = chat.window.findChild(QObject, "endDialog")
        qtbot.waitUntil(lambda: dialog.property("opened"), timeout=WAIT_MS)
        assert chat.window.isVisible() and chat.bridge.inChat  # nothing ended yet
        assert dialog.property("people") == 2
        QTest.keyClick(chat.window, Qt.Key.Key_Escape)  # keep it open
        qtbot.waitUntil(lambda: not dialog.property("visible"), timeout=WAIT_MS)
        assert chat.window.isVisible() and chat.bridge.inChat
        chat.window.close()
        qtbot.waitUntil(lambda: dialog.property("opened"), timeout=WAIT_MS)
        QTest.keyClick(chat.window, Qt.Key.Key_Return)  # end the chat
        server.expect(b"exit,")
        qtbot.waitUntil(lambda: not chat.window.isVisible(), timeout=WAIT_MS)


def test_a_server_heard_on_the_group_is_offered_though_it_does_not_announce(qtbot, server):
    """Issue 26, point 2: other people's servers do not announce themselves; the source of
    their datagrams on our group is learned, and offered with Join (never believed as ours)."""
    other = GroupSender(server.group, server.group_port, source="127.0.0.2")
    try:
        with chat_window(qtbot, server.options()) as chat:
            assert item(chat, "chatsPanel").isVisible()  # not in a chat: the start view
            other.send(b"welcome,dana")  # a classmate's server, welcoming someone
            chats = chat.bridge.chats
            qtbot.waitUntil(lambda: chats.count == 1, timeout=WAIT_MS)
            record = chats.record(0)
            assert (record.address, record.port) == ("127.0.0.2", server.port)
            assert "not announced" in record.title
            other.send(b"msg,dana: hi")  # heard again: still one entry
            qtbot.waitUntil(lambda: lines(chat)[-1][2] == "msg,dana: hi", timeout=WAIT_MS)
            assert chats.count == 1
    finally:
        other.close()


def test_the_cursor_stops_blinking_at_rest_and_blinks_again_at_a_key(qtbot, server):
    """Issue 29: a window at rest woke 4 times a second for its blinking cursor; now the
    blinking stops after a while without typing (a solid cursor) and comes back at a key."""
    from PySide6.QtGui import QGuiApplication

    hints = QGuiApplication.styleHints()
    blink = hints.cursorFlashTime()
    with chat_window(qtbot, server.options()) as chat:
        rest = chat.window.findChild(QObject, "cursorRest")
        rest.setProperty("interval", 100)  # 10 s in use; the same timer, shorter
        type_line(chat, "", enter=False)
        qtbot.waitUntil(lambda: hints.cursorFlashTime() == 0, timeout=WAIT_MS)
        type_line(chat, "a", enter=False)
        assert hints.cursorFlashTime() == blink > 0
    hints.setCursorFlashTime(blink)  # whatever happened, the next test's default
