"""The pieces under the bridge, each alone: attention, search hits, the line feed, the
driver (real sockets, a real Qt event loop; no window)."""

from __future__ import annotations

import socket
import time

from hypothesis import given
from hypothesis import strategies as st

from protocol_lib import Notice, SendDatagram
from qml_client.attention import UNREAD, Attention
from qml_client.cli import ClientOptions
from qml_client.presenter import ChatLine, LineKind, Presenter, ViewUpdate

STAMP = 1_796_220_000.0  # a fixed clock (unix time)


def line(text: str, kind: LineKind = LineKind.IN, sender: str = "alice") -> ChatLine:
    return ChatLine(kind, text, sender, "12:00", at=STAMP)


class Notes:
    def __init__(self) -> None:
        self.said: list[tuple[str, str]] = []

    def notify(self, summary: str, body: str) -> bool:
        self.said.append((summary, body))
        return True


def test_attention_marks_the_first_line_of_each_absence_and_notifies_mentions_when_away():
    notes = Notes()
    attention = Attention(Presenter(now=lambda: STAMP), notes, unread_line=True)
    mention = line("bob, look")
    update = ViewUpdate(lines=[line("hi"), mention], mentions=[mention], incoming=2)
    assert attention.marker(update) == []  # in front: nothing
    attention.notify(update)
    assert notes.said == []
    attention.set_active(False)
    joined = ViewUpdate(lines=[line("carol joined")])  # nothing said: nothing to read
    assert attention.marker(joined) == []
    (marker,) = attention.marker(update)
    assert marker.line_text == UNREAD and attention.marker(update) == []  # once an absence
    assert marker.timestamp == ""  # no time of its own
    attention.notify(update)
    assert notes.said == [("alice mentioned you", "bob, look")]
    attention.set_active(True)
    attention.set_active(False)  # away again: a new marker
    assert len(attention.marker(update)) == 1
    quiet = Attention(Presenter(now=lambda: STAMP), None, unread_line=False)
    quiet.set_active(False)
    assert quiet.marker(update) == []
    quiet.notify(update)  # no notifier: nothing, no error


def test_search_hits_cycle_newest_first_and_skip_lines_that_left_the_view(qapp):
    from qml_client.models import MessageModel
    from qml_client.search_hits import SearchHits

    model = MessageModel(scrollback=5)
    model.append_lines([line("apple pie"), line("pear"), line("apple juice")])
    hits = SearchHits(model)
    assert hits.find("apple")
    first, second = hits.next_row(), hits.next_row()
    assert {first, second} == {0, 2} and hits.next_row() == first  # cycles
    model.append_lines([line(f"filler {n}") for n in range(4)])  # "apple pie" scrolls away
    rows = {hits.next_row() for _ in range(3)}
    assert len(rows) == 1 and model.line(rows.pop()).line_text == "apple juice"
    assert not hits.find("cherry") and hits.next_row() == -1


def test_search_hits_walk_both_ways_and_say_where_they_are(qapp):
    from qml_client.models import MessageModel
    from qml_client.search_hits import SearchHits

    model = MessageModel(scrollback=4)
    model.append_lines([line(f"apple {n}") for n in range(4)])  # rows 0-3, newest last
    hits = SearchHits(model)
    assert hits.find("APPLE") and hits.position() == (0, 4)  # none shown yet
    assert hits.previous_row() == 0 and hits.position() == (4, 4)  # newer than none: oldest
    assert hits.previous_row() == 1 and hits.position() == (3, 4)
    assert [hits.next_row() for _ in range(3)] == [0, 3, 2]  # older, then round to newest
    assert hits.position() == (2, 4) and hits.previous_row() == 3  # back to the newest
    model.append_lines([line("pear"), line("plum"), line("fig")])  # apples 0-2 leave
    assert hits.position() == (1, 1)  # the one shown is still there: it is "1 of 1"
    assert hits.previous_row() == hits.next_row() == 0
    assert model.line(0).line_text == "apple 3"
    assert not hits.find("   ") and hits.position() == (0, 0)  # no words find nothing


def test_the_feed_shows_a_line_at_once_and_paces_a_flood(qtbot):
    from qml_client.feed import SHOW_INTERVAL, LineFeed
    from qml_client.models import MessageModel

    model = MessageModel()
    feed = LineFeed(model, Presenter(now=lambda: STAMP), None, lambda: "bob")
    feed.add([line("first")], paced=True)  # after a quiet spell: at once
    assert model.rowCount() == 1
    feed.add([line("second")], paced=True)  # within SHOW_INTERVAL: waits
    assert model.rowCount() == 1 and feed.unshown
    qtbot.waitUntil(lambda: model.rowCount() == 2, timeout=int(SHOW_INTERVAL * 1000) + 2000)
    feed.add([line("typed")])  # not paced (what the user did): at once
    assert model.rowCount() == 3
    (listing,) = feed.search("anything")
    assert listing.kind is LineKind.ERROR and "No history is kept" in listing.line_text


def test_the_driver_sends_what_the_core_asks_and_delivers_the_rest(qtbot):
    from qml_client.driver import Batch, ClientDriver

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as server:
        server.bind(("127.0.0.1", 0))
        server.settimeout(5)
        options = ClientOptions("127.0.0.1", server.getsockname()[1], "239.255.77.1",
                                server.getsockname()[1], "127.0.0.1")  # fmt: skip
        delivered: list[Batch] = []
        driver = ClientDriver(options, lambda batch: delivered.append(batch) or True)
        closed = driver.carry_out(Batch([SendDatagram(b"list,"), Notice("hi")]))
        assert closed  # what deliver answered
        (batch,) = delivered
        assert batch.events == [Notice("hi")]  # the send never reaches the view
        assert batch.send_failures == ["not connected: the chat sockets are closed"]
        assert driver.start() is None
        try:
            driver.act(driver.core.login("bob", time.monotonic()))
            assert server.recvfrom(100)[0] == b"login,bob"
            assert not any(type(e) is SendDatagram for e in delivered[-1].events)
            assert delivered[-1].send_failures == []
        finally:
            driver.shutdown(say_exit=False)
        assert not driver.worker_alive and driver.sock is None


def test_a_long_paste_waits_for_a_yes_and_a_short_one_does_not():
    from qml_client.recall import PasteGate

    gate = PasteGate(limit=2)
    assert gate.holds("one\ntwo\n\n") == 0 and gate.waiting is None
    assert gate.holds("a\nb\nc") == 3 and gate.waiting == "a\nb\nc"
    assert not gate.loses_layout()
    assert gate.release() == "a\nb\nc" and gate.release() is None
    for code in ("def f(x):\n    return x\nprint(f(2))", "a\n\nb\nc"):  # the dialog warns
        assert gate.holds(code) == 3 and gate.loses_layout(), code
        gate.release()


def test_the_unread_marker_moves_and_the_old_one_is_taken_back():
    retired: list[ChatLine] = []
    attention = Attention(Presenter(now=lambda: STAMP), None, True, retired.append)
    update = ViewUpdate(lines=[line("hi")], incoming=1)
    attention.set_active(False)
    (first,) = attention.marker(update)
    attention.set_active(True)
    attention.set_active(False)
    (second,) = attention.marker(update)
    assert retired == [first] and second is not first
    assert not first.kept and not second.kept  # never in the history


def test_a_line_taken_out_of_the_view_leaves_numbers_marks_and_hits_right(qapp):
    from protocol_lib.client_events import MessageStatus
    from qml_client.models import MessageModel

    model = MessageModel(scrollback=6)
    own = ChatLine(LineKind.OUT, "mine", "bob", "12:00", MessageStatus.PENDING, message_id=7)
    marker = line(UNREAD, LineKind.SYSTEM, "")
    model.append_lines([line("a"), marker, own, line("b")])
    seqs = [model.sequence(row) for row in range(4)]
    assert model.remove_line(marker) and not model.remove_line(marker)
    assert [model.line(row).line_text for row in range(3)] == ["a", "mine", "b"]
    assert [model.sequence(row) for row in range(3)] == [seqs[0], seqs[2], seqs[3]]
    assert model.row_of(seqs[1]) is None and model.row_of(seqs[3]) == 2
    assert model.set_status(7, MessageStatus.DELIVERED) and model.line(1).status == "delivered"
    model.append_lines([line(f"more {n}") for n in range(5)])  # "a", "mine" leave the view
    assert model.row_of(seqs[0]) is None and not model.set_status(7, MessageStatus.FAILED)
    assert model.line(model.row_of(seqs[3])).line_text == "b"


@given(st.text(min_size=1, max_size=3000), st.integers(min_value=4, max_value=1015))
def test_a_long_text_splits_into_lines_that_fit_between_words(text, room):
    """Issue 25, point 7: the offer to send a long text as several lines."""
    from qml_client.commands import split_to_fit

    parts = split_to_fit(text, room)
    assert all(0 < len(part.encode()) <= room for part in parts)
    assert "".join(parts).split() == [] or "".join("".join(parts).split()) == "".join(text.split())
    if all(len(word.encode()) <= room for word in text.split()):
        assert [w for part in parts for w in part.split()] == text.split()
