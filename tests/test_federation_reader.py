"""The broker thread's reader, fed by hand: what it hands the relay loop, in which order.

The whole federation runs against a real nats-server in test_federation.py; the cases
here cannot be made to happen there on purpose: a batch lost in flight when the
connection broke (the next one arrives, and its acknowledgement would cover the lost
one), a batch delivered twice, a status from a request that was given up.  The messages
are stand-ins with the attributes nats-py's have; the stream's ``get_msg`` is a dict.
"""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest

pytest.importorskip("nats")

from nats.js.errors import NotFoundError

from protocol_lib.federation import (
    EventKind,
    FederationConfig,
    RemoteEvent,
    SiteEvent,
    encode_events,
)
from server_app.federation import (
    FederationLink,
    FederationOptions,
    _BrokerSession,
)


def batch(seq: int, site: str = "labA", text: str = "") -> tuple[str, bytes]:
    event = SiteEvent(site, 7, seq, EventKind.MSG, "alice", text or f"line {seq}")
    return f"lanchat.events.{site}", encode_events([event])


class Stream:
    """The stream as ``get_msg(..., next=True)`` sees it: the first message at or after a
    sequence number."""

    def __init__(self, stored: dict[int, tuple[str, bytes]]) -> None:
        self.stored = stored
        self.asked: list[int] = []

    async def get_msg(self, stream: str, seq: int, subject: str, next: bool) -> SimpleNamespace:
        self.asked.append(seq)
        for at in sorted(self.stored):
            if at >= seq:
                subject, data = self.stored[at]
                return SimpleNamespace(seq=at, subject=subject, data=data)
        raise NotFoundError


def delivered(seq: int, subject: str, data: bytes) -> SimpleNamespace:
    acks: list[int] = []

    async def ack() -> None:
        acks.append(seq)

    sequence = SimpleNamespace(stream=seq)
    return SimpleNamespace(
        headers=None,
        subject=subject,
        data=data,
        metadata=SimpleNamespace(sequence=sequence),
        ack=ack,
        acks=acks,
    )


@pytest.fixture
def session():
    link = FederationLink(
        FederationOptions(("nats://127.0.0.1:9",), "labB"),
        FederationConfig("labB", 1, 15.0),
        ("127.0.0.1", 9),
    )
    session = _BrokerSession(link)
    session.pull_inbox, session.pull_left = "_INBOX.now", 256
    yield session
    link.stop()


def texts(session: _BrokerSession) -> list[str]:
    return [i.event.text for i in session.link.inputs() if isinstance(i, RemoteEvent)]


def test_batches_that_never_arrived_are_read_from_the_stream_first_in_order(session):
    stored = {seq: batch(seq) for seq in range(1, 9)}
    stored[6] = ("lanchat.events.labB", b"[]")  # this site's own: skipped, not decoded
    del stored[4]  # gone from the stream (expired): stepped over
    session.js = stream = Stream(stored)
    session.read_seq = 1  # joined after the stream's first message

    async def scene() -> None:
        await session._delivered(delivered(2, *stored[2]))
        await session._delivered(delivered(8, *stored[8]))  # 3..7 never arrived

    asyncio.run(scene())
    assert texts(session) == ["line 2", "line 3", "line 5", "line 7", "line 8"]
    assert stream.asked == [3, 4, 6, 7]
    assert session.read_seq == 8
    assert any("4 batch(es) that never arrived" in note for note in session.link.notes())


def test_a_batch_delivered_twice_is_handed_over_once_and_acknowledged_again(session):
    session.js = Stream({})
    first = delivered(1, *batch(1))
    again = delivered(1, *batch(1))

    async def scene() -> None:
        await session._delivered(first)
        await session._delivered(again)
        await session._acknowledge()

    asyncio.run(scene())
    assert texts(session) == ["line 1"]
    # acknowledged, or the broker would send it again every ack_wait, for ever
    assert again.acks == [1] and first.acks == []


def test_only_the_current_request_s_status_ends_it(session):
    session.js = Stream({})
    expired = SimpleNamespace(headers={"Status": "408"}, subject="_INBOX.given_up")

    asyncio.run(session._delivered(expired))
    assert not session.pull_ended.is_set()
    asyncio.run(
        session._delivered(SimpleNamespace(headers={"Status": "408"}, subject="_INBOX.now"))
    )
    assert session.pull_ended.is_set() and session.pull_status == "408"


def test_a_batch_that_breaks_the_reader_costs_itself_and_is_said(session):
    session.js = Stream({})
    broken = delivered(1, *batch(1))
    broken.metadata = None  # no sequence: the reader's own code raises

    asyncio.run(session._delivered(broken))
    asyncio.run(session._delivered(delivered(2, *batch(2))))
    notes = session.link.notes()
    assert any("internal error reading 'lanchat.events.labA'" in note for note in notes), notes
    assert texts(session) == ["line 2"]


def test_an_acknowledgement_lost_with_the_link_is_quiet_and_a_bug_in_it_is_said(session):
    """Issue 36, point 1's rule for the whole tree: a failure that means the broker is away
    is said by the link's own lines; anything else gets a line, never a silent pass."""
    from nats.errors import ConnectionClosedError

    for error, said in ((ConnectionClosedError(), False), (ValueError("a bug"), True)):
        message = delivered(1, *batch(1))

        async def ack(error: Exception = error) -> None:
            raise error

        message.ack = ack
        session.unacked = message
        asyncio.run(session._acknowledge())
        notes = [note for note in session.link.notes() if "acknowledging" in note]
        assert bool(notes) is said, notes
        if said:
            assert "ValueError('a bug')" in notes[0]
