"""What ``ClientCore`` tells its caller: the client's states and its events.

In their own module, as h11 keeps its events apart from the connection that makes
them: a front end reads these (a GUI, a bot, a test) without the core's machinery.
``protocol_lib.client`` imports them back, so both names work.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Union

from .errors import ProtocolError
from .reasons import REASONS, Reason


class ClientState(StrEnum):
    """The client's own view of where it is; values are shown to the user."""

    LOGGED_OUT = "logged out"
    LOGGING_IN = "logging in"
    IN_CHAT = "in chat"


class MessageStatus(StrEnum):
    """Where one of our own chat lines is; the view shows a mark for each."""

    QUEUED = "queued"  # typed faster than the server's pace allows: waiting to be sent
    PENDING = "pending"  # sent; waiting for the group to relay it back
    DELIVERED = "delivered"  # the group relayed it: everyone got it
    FAILED = "failed"  # known not relayed (the server relays others), or never sent
    # sent, but nothing came back from the chat at all: it may have been relayed (this
    # computer may not receive the group) or not (the server is down); we cannot know
    UNCONFIRMED = "unconfirmed"
    SENT = "sent"  # sent raw before any welcome: no echo can be matched to it


class RelayStyle(StrEnum):
    """How the server relays a chat line, learned from the echo of our own."""

    UNKNOWN = "unknown"
    PLAIN = "plain"  # msg,<text>: the spec's literal relay; no sender in it
    ATTRIBUTED = "attributed"  # msg,<user>: <text>


# --- events out -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SendDatagram:
    """Send ``data`` to the server by unicast."""

    data: bytes


@dataclass(frozen=True, slots=True)
class StateChanged:
    """The client's state changed; ``user`` is our name (or the one being tried)."""

    state: ClientState
    user: str | None


@dataclass(frozen=True, slots=True)
class LocalError:
    """Something the user asked for cannot be done; ``message`` is for them."""

    reason: Reason
    message: str


@dataclass(frozen=True, slots=True)
class Notice:
    """Information for the user that is neither an error nor chat (help text)."""

    message: str


@dataclass(frozen=True, slots=True)
class SessionEnded:
    """The server said goodbye to us unasked: to the whole chat (``everyone``: it stopped,
    or its host ended the chat) or to us alone.  A reason, not a sentence: each front end
    says it its way (the window names /login, the page its Join button)."""

    everyone: bool


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """Our own chat line, as typed; ``status`` is QUEUED, PENDING or SENT."""

    message_id: int
    text: str
    status: MessageStatus = MessageStatus.PENDING


@dataclass(frozen=True, slots=True)
class MessageSent:
    """A queued line of ours left the queue: now PENDING until its relay returns."""

    message_id: int


@dataclass(frozen=True, slots=True)
class MessageDelivered:
    """The group relayed our message ``message_id``: everyone got it."""

    message_id: int


@dataclass(frozen=True, slots=True)
class DeliveryFailed:
    """These lines of ours were not relayed in time, or never sent (a LocalError says why)."""

    message_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class DeliveryUnknown:
    """These lines of ours went out, and nothing at all has come back from the chat since:
    whether they were relayed cannot be known (a LocalError says so)."""

    message_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class ChatSilence:
    """The chat stopped answering (``silent``: lines of ours or a login got no answer and
    nothing at all came from the server), or answers again (anything came from it)."""

    silent: bool


@dataclass(frozen=True, slots=True)
class IncomingMessage:
    """A chat line from the group; ``sender`` is None when it cannot be known."""

    sender: str | None
    text: str


@dataclass(frozen=True, slots=True)
class UserJoined:
    user: str


@dataclass(frozen=True, slots=True)
class UserLeft:
    user: str


@dataclass(frozen=True, slots=True)
class RosterChanged:
    """A list reply replaced the user list: here it is whole, in the server's order.

    Single arrivals and departures are ``UserJoined``/``UserLeft`` only (the
    current list is ``ClientCore.roster``): a copy of the whole list per
    welcome made 100k welcomes quadratic (168 us each at 40k users).
    """

    users: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class UserListShown:
    """The answer to a /list the user typed: the roster, to write into the chat."""

    users: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class NameTakenOver:
    """Another client logged in with our name; we are no longer in the chat."""

    user: str


@dataclass(frozen=True, slots=True)
class RelayStyleLearned:
    """The server's relay style is now known (from our own echo or others' lines).

    ``presumed`` is the style it was taken to have before (``ClientConfig.relay_style``)
    when this contradicts it: lines credited before may name the wrong sender."""

    style: RelayStyle
    presumed: RelayStyle = RelayStyle.UNKNOWN


@dataclass(frozen=True, slots=True)
class UnrecognisedLine:
    """A datagram that is not this protocol as we know it: show it raw."""

    text: str
    reason: Reason


@dataclass(frozen=True, slots=True)
class NotFromServer:
    """A datagram from ``source``, which is not the server: shown, never believed.

    ``port`` is set when ``source`` is the server's address but the port is not the one
    its datagrams come from (another program on the server's host, or forged): the
    address alone proves nothing there."""

    source: str
    text: str
    port: int | None = None


ClientEvent = Union[
    SendDatagram,
    StateChanged,
    LocalError,
    Notice,
    SessionEnded,
    OutgoingMessage,
    MessageSent,
    MessageDelivered,
    DeliveryFailed,
    DeliveryUnknown,
    ChatSilence,
    IncomingMessage,
    UserJoined,
    UserLeft,
    RosterChanged,
    UserListShown,
    NameTakenOver,
    RelayStyleLearned,
    UnrecognisedLine,
    NotFromServer,
]


def error_event(exc: ProtocolError) -> LocalError:
    """The user-facing sentence for a refused line: the reason's, else the detail."""
    return LocalError(exc.reason, REASONS.get(exc.reason, exc.detail or exc.reason))
