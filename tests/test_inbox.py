"""The hand-over point between the worker and the GUI thread: bounded, newest kept."""

from __future__ import annotations

import threading

from qml_client.receiver import Inbox


def test_only_the_first_put_into_an_empty_inbox_wakes_the_gui():
    inbox = Inbox()
    assert inbox.put([(b"a", "127.0.0.1")], [])
    assert not inbox.put([(b"b", "127.0.0.1")], [])
    assert inbox.take(10) == ([(b"a", "127.0.0.1"), (b"b", "127.0.0.1")], [], 0, False)
    assert inbox.put([(b"c", "127.0.0.1")], [])


def test_slices_say_whether_more_wait():
    inbox = Inbox()
    inbox.put([(b"%d" % i, "h") for i in range(5)], ["oops"])
    assert inbox.take(2) == ([(b"0", "h"), (b"1", "h")], ["oops"], 0, True)
    assert inbox.take(2)[3] is True
    assert inbox.take(2) == ([(b"4", "h")], [], 0, False)


def test_when_full_the_oldest_are_dropped_and_counted():
    inbox = Inbox(max_bytes=100 * 110)  # room for 100 datagrams of 10 bytes (+ overhead)
    inbox.put([(b"%010d" % i, "h") for i in range(250)], [])
    inbox.put([(b"%010d" % i, "h") for i in range(250, 300)], [])
    datagrams, _, dropped, more = inbox.take(1000)
    assert dropped == 200 and not more
    assert [int(d) for d, _ in datagrams] == list(range(200, 300))  # the newest, in order
    inbox.put([(b"x" * 10, "h")], [])
    assert inbox.take(1000)[2] == 0  # counted once


def test_a_drop_alone_wakes_the_gui():
    """Even when everything put was dropped, the GUI hears that something was lost."""
    inbox = Inbox(max_bytes=50)
    assert inbox.put([(b"y" * 100, "h")], [])
    assert inbox.take(10) == ([], [], 1, False)


def test_put_and_take_from_two_threads_lose_nothing_unaccounted():
    inbox = Inbox(max_bytes=2000 * 110)
    total = 50_000

    def worker() -> None:
        for start in range(0, total, 100):
            inbox.put([(b"%010d" % i, "h") for i in range(start, start + 100)], [])

    thread = threading.Thread(target=worker)
    thread.start()
    seen, dropped = [], 0
    while True:
        finished = not thread.is_alive()  # before the take: a later put is then seen
        datagrams, _, lost, more = inbox.take(300)
        seen += [int(d) for d, _ in datagrams]
        dropped += lost
        if finished and not more and not datagrams and not lost:
            break
    thread.join()
    assert len(seen) + dropped == total
    assert seen == sorted(seen) and seen[-1] == total - 1
