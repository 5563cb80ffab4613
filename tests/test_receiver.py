"""The worker that reads the sockets: at a chat's pace it reads each line at once; under
a flood it pauses between reads, never long enough to fill the kernel's buffer."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qml_client.receiver import (
    BUFFER_SHARE,
    BUSY_BATCH,
    KERNEL_BYTES_PER_DATAGRAM,
    PAUSE_BATCH,
    PAUSE_SECONDS,
    Inbox,
    Receiver,
    pause_after,
)

DEFAULT_LINUX_BUFFER = 425_984  # what a user without privileges gets (2 x rmem_max 208 KiB)


def test_no_pause_at_a_chats_pace():
    assert pause_after(1, 0.5, DEFAULT_LINUX_BUFFER) == 0
    assert pause_after(BUSY_BATCH - 1, 0.0001, DEFAULT_LINUX_BUFFER) == 0


def test_a_flood_pauses_at_most_the_longest_pause():
    assert pause_after(50, 0.002, 8 * 1024 * 1024) == PAUSE_SECONDS  # 25k lines/s


def test_a_faster_flood_pauses_less_so_that_a_read_stays_short():
    # 200k lines/s: 100 lines gather in 0.5 ms.
    assert pause_after(400, 0.002, 8 * 1024 * 1024) == pytest.approx(0.0005)


def test_a_small_buffer_shortens_the_pause_to_what_it_holds():
    # 50k lines/s into a buffer that holds ~160 lines: 40 may gather, in 0.8 ms.
    pause = pause_after(100, 0.002, 163_840)
    assert pause == pytest.approx(0.0008)


@given(
    batch=st.integers(min_value=0, max_value=10_000),
    seconds=st.floats(min_value=0.0, max_value=10.0),
    buffer_bytes=st.integers(min_value=2_048, max_value=64 * 1024 * 1024),
)
def test_a_pause_at_the_rate_seen_fills_at_most_a_share_of_the_buffer(
    batch: int, seconds: float, buffer_bytes: int
):
    pause = pause_after(batch, seconds, buffer_bytes)
    assert 0 <= pause <= PAUSE_SECONDS
    if pause and seconds:
        arriving = batch / seconds * pause
        assert arriving <= PAUSE_BATCH * (1 + 1e-9)
        assert arriving <= buffer_bytes * BUFFER_SHARE / KERNEL_BYTES_PER_DATAGRAM * (1 + 1e-9)


@pytest.fixture
def socket_pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    """A receiving socket on loopback, as the worker gets it, and a sender to it."""
    into = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    into.bind(("127.0.0.1", 0))
    into.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sender.connect(into.getsockname())
    yield into, sender
    into.close()
    sender.close()


class Counted:
    """The worker's wake-up, with a way to wait until ``total`` datagrams were put."""

    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox
        self.taken: list[bytes] = []
        self._woken = threading.Event()

    def notify(self) -> None:
        self._woken.set()

    def wait_for(self, total: int) -> None:
        while len(self.taken) < total:
            assert self._woken.wait(10), f"{len(self.taken)} of {total} datagrams arrived"
            self._woken.clear()
            while True:
                datagrams, errors, dropped, more = self.inbox.take(100_000)
                assert not errors and not dropped
                self.taken += [data for data, _ in datagrams]
                if not more:
                    break


def run_receiver(into: socket.socket, counted: Counted) -> Receiver:
    worker = Receiver([into], counted.inbox, counted.notify)
    worker.start()
    return worker


def test_a_line_at_a_time_is_read_at_once_without_pausing(socket_pair):
    into, sender = socket_pair
    counted = Counted(Inbox())
    worker = run_receiver(into, counted)
    try:
        for i in range(20):
            sender.send(b"msg,line %d" % i)
            counted.wait_for(i + 1)
    finally:
        worker.stop()
        worker.join(5)
    assert counted.taken == [b"msg,line %d" % i for i in range(20)]
    assert worker.pauses == 0


def test_a_flood_waiting_in_the_kernel_is_read_whole_with_pauses_between_reads(socket_pair):
    into, sender = socket_pair
    sent = [b"msg,line %d" % i for i in range(300)]  # fits any buffer (a default: ~500)
    for data in sent:  # all waiting before the worker starts: its first read is a flood
        sender.send(data)
    counted = Counted(Inbox())
    worker = run_receiver(into, counted)
    try:
        counted.wait_for(len(sent))
    finally:
        worker.stop()
        worker.join(5)
    assert not worker.is_alive()
    assert counted.taken == sent
    assert worker.pauses >= 1
