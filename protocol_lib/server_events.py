"""What ``ServerCore`` asks its caller to do: its actions, in their own module.

As h11 keeps its events apart from the connection that makes them: the socket loop,
the log's formatter and tests read these without the core's machinery.
``protocol_lib.server`` imports them back.
"""

from __future__ import annotations

from typing import NamedTuple, Union

from .federation import ClaimName, FederationNotice, Publish, ReleaseNames
from .kinds import by_kind
from .reasons import Reason

Address = tuple[str, int]


@by_kind
class SendToGroup(NamedTuple):
    """Multicast ``data`` to the chat group."""

    data: bytes


@by_kind
class SendToAddress(NamedTuple):
    """Send ``data`` by unicast to one client."""

    data: bytes
    addr: Address


@by_kind
class RequestArrived(NamedTuple):
    """An accepted request, for the spec's log line.

    ``text`` is the chat text for ``msg``; ``takeover_from`` is the old address
    when a login from the same host took a name over from a stale session.
    """

    kind: str  # "login" | "msg" | "list" | "exit"
    user: str
    addr: Address
    text: str | None = None
    takeover_from: Address | None = None


@by_kind
class RequestRejected(NamedTuple):
    """A datagram that was not acted on, with a stable reason code."""

    reason: Reason
    addr: Address
    detail: str = ""
    user: str | None = None  # the logged-in user at that address, if any


@by_kind
class RejectionsSummarised(NamedTuple):
    """Rejections not logged one by one in the window [since, until)."""

    counts: tuple[tuple[Reason, int], ...]  # (reason, count), most frequent first
    sources: int  # distinct source addresses among them
    since: float
    until: float

    @property
    def total(self) -> int:
        return sum(n for _, n in self.counts)


@by_kind
class HostSweeping(NamedTuple):
    """Datagrams from many ports of ``host`` that have no session were refused: a sweep of
    source ports (spoofed, to hit a session's port by chance) is the likely cause.  Said
    once per rejection-log window per host."""

    host: str
    ports: int  # distinct ports refused in the window, at least
    since: float


@by_kind
class SessionEvicted(NamedTuple):
    """The chat was full and ``addr``'s host held the most sessions: its session that had
    been silent the longest (``user``) was ended to let a newcomer in."""

    user: str
    addr: Address
    held: int  # sessions its host held


ServerAction = Union[
    SendToGroup,
    SendToAddress,
    RequestArrived,
    RequestRejected,
    RejectionsSummarised,
    HostSweeping,
    SessionEvicted,
    # federation (only with a FederationConfig)
    Publish,
    ClaimName,
    ReleaseNames,
    FederationNotice,
]
