"""What the gateway and the page say to each other: JSON text frames, both ways.

No sockets here, as in ``protocol_lib``: ``read_request`` turns any text a browser sends
into one request or raises ``FrameError`` (h11's rule: any input parses or raises our
error), and ``event_frame`` turns a ``ClientCore`` event into the frame the page shows.

The page shows every text it gets as text (``textContent``), never as markup; nothing
here escapes anything, because nothing downstream interprets it.

Page -> gateway (``t`` is the kind):
    {"t": "login", "name": "bob", "resume": "<token>"?, "seen": 12?, "again": true?}
    {"t": "say", "text": "hi", "ref": 17?}  one or more lines; each is one chat line.
                                        ``ref`` (increasing per page) is answered with
                                        {"t": "took", "ref": 17}; a ref taken already is
                                        answered, not said again (a page that resends
                                        what a dead connection may have swallowed)
    {"t": "ping"}                       answered with {"t": "pong"}: the page finds a
                                        dead connection itself, in seconds
    {"t": "leave"}
Gateway -> page: ``hello`` and ``attached`` (about the connection), then the user's own
frames, which the page counts so that a page back from a Wi-Fi drop is sent only what
it missed: ``state``, ``line``, ``mine``, ``mark``, ``joined``, ``left``, ``roster``,
``notice``, ``error``, ``raw``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Union

from protocol_lib.client_events import (
    ClientEvent,
    DeliveryFailed,
    DeliveryUnknown,
    IncomingMessage,
    LocalError,
    MessageDelivered,
    MessageSent,
    NameTakenOver,
    Notice,
    OutgoingMessage,
    RelayStyle,
    RelayStyleLearned,
    RosterChanged,
    SessionEnded,
    UnrecognisedLine,
    UserJoined,
    UserLeft,
    UserListShown,
)

# A frame from the page carries at most one chat message of the protocol's 1 KB, written
# as JSON (quotes and backslashes doubled, control characters as \\uXXXX): 4 KB is room
# for any line the server would take, and a frame larger is not a chat line.
MAX_FRAME_BYTES = 4096
NAME_CHARS = 64  # a name field longer than this is not a name (the protocol's are shorter)
TOKEN_CHARS = 64


class FrameError(Exception):
    """A frame from a page that is not one of ours; ``str()`` says why, for the log."""


@dataclass(frozen=True, slots=True)
class Login:
    """Enter the chat as ``name``; with ``resume``, take back a session the page had."""

    name: str
    resume: str | None = None
    seen: int = 0  # frames of that session the page has already shown
    again: bool = False  # a reconnect, as the page says: it takes nothing over (a name in
    # use is taken up only by its own session: the resume token, or the browser's device id)
    device: str | None = None  # this browser's own random id (its tabs share it)


@dataclass(frozen=True, slots=True)
class Say:
    text: str
    ref: int | None = None  # the page's number for it: taken once, answered with "took"


@dataclass(frozen=True, slots=True)
class Ping:
    pass


@dataclass(frozen=True, slots=True)
class Leave:
    pass


PageRequest = Union[Login, Say, Leave, Ping]
MAX_REF = 2**53  # a page's numbers are JavaScript's safe integers


def _field(frame: dict[str, Any], key: str, kind: type, default: Any = None) -> Any:
    value = frame.get(key, default)
    if value is default:
        return value
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise FrameError(f"{key!r} is not a {kind.__name__}")
    return value


def read_request(text: str) -> PageRequest:
    """The request in one frame from a page, or FrameError saying why it is none."""
    if len(text) > MAX_FRAME_BYTES:
        raise FrameError(f"frame of {len(text)} characters (at most {MAX_FRAME_BYTES})")
    try:
        frame = json.loads(text)
    except (ValueError, RecursionError):
        raise FrameError("not JSON") from None
    if not isinstance(frame, dict):
        raise FrameError("not a JSON object")
    kind = frame.get("t")
    if kind == "say":
        text_field = _field(frame, "text", str)
        if text_field is None:
            raise FrameError("'say' without 'text'")
        ref = _field(frame, "ref", int)
        if ref is not None and not 0 < ref <= MAX_REF:
            raise FrameError("'ref' out of range")
        return Say(text_field, ref)
    if kind == "ping":
        return Ping()
    if kind == "login":
        return _login(frame)
    if kind == "leave":
        return Leave()
    raise FrameError(f"unknown kind {str(kind)[:20]!r}")


def _login(frame: dict[str, Any]) -> Login:
    """The login fields, each checked: a page may send anything."""
    name = _field(frame, "name", str)
    if name is None or len(name) > NAME_CHARS:
        raise FrameError("'login' without a name of at most 64 characters")
    resume = _field(frame, "resume", str)
    if resume is not None and len(resume) > TOKEN_CHARS:
        raise FrameError("'resume' too long")
    seen = _field(frame, "seen", int, 0)
    if seen < 0:
        raise FrameError("'seen' below 0")
    device = _field(frame, "device", str)
    if device is not None and len(device) > TOKEN_CHARS:
        raise FrameError("'device' too long")
    return Login(name, resume, seen, bool(_field(frame, "again", bool, False)), device)


def frame(kind: str, **fields: Any) -> str:
    """One frame for the page: compact JSON, non-ASCII kept as UTF-8."""
    return json.dumps({"t": kind, **fields}, ensure_ascii=False, separators=(",", ":"))


_STYLE_WORDS = {
    RelayStyle.PLAIN: "This server does not say who wrote each line: names shown on "
    "earlier lines were read from their text and may be wrong.",
    RelayStyle.ATTRIBUTED: "This server names who wrote each line.",
}


def event_frame(event: ClientEvent, at_ms: int) -> str | None:  # noqa: C901 (one case each)
    """The frame that shows ``event`` on the page (``at_ms``: when it came, Unix ms), or
    None for what a page does not show (datagrams to send, lines from non-servers, which
    the gateway logs instead, state, which the gateway frames with more it knows)."""
    if isinstance(event, IncomingMessage):
        return frame("line", sender=event.sender, text=event.text, at=at_ms)
    if isinstance(event, OutgoingMessage):
        return frame("mine", id=event.message_id, text=event.text, status=event.status, at=at_ms)
    if isinstance(event, MessageDelivered):
        return frame("mark", ids=[event.message_id], status="delivered")
    if isinstance(event, MessageSent):
        return frame("mark", ids=[event.message_id], status="pending")
    if isinstance(event, DeliveryFailed):
        return frame("mark", ids=list(event.message_ids), status="failed")
    if isinstance(event, DeliveryUnknown):
        return frame("mark", ids=list(event.message_ids), status="unconfirmed")
    if isinstance(event, UserJoined):
        return frame("joined", user=event.user, at=at_ms)
    if isinstance(event, UserLeft):
        return frame("left", user=event.user, at=at_ms)
    if isinstance(event, RosterChanged):
        return frame("roster", users=list(event.users))
    if isinstance(event, UserListShown):
        return frame("notice", text="In the chat: " + ", ".join(event.users))
    if isinstance(event, LocalError):
        return frame("error", reason=event.reason, text=event.message)
    if isinstance(event, Notice):
        return frame("notice", text=event.message)
    if isinstance(event, SessionEnded):  # the page's words: it has a Join button
        if event.everyone:
            text = ("The chat has ended: the server said goodbye to everyone (it stopped, or "
                    "its host ended the chat). Join again when it is back.")  # fmt: skip
        else:
            text = ("The server ended your session (it may be stopping or restarting). "
                    "Join again when it is back.")  # fmt: skip
        return frame("notice", text=text)
    if isinstance(event, NameTakenOver):
        return frame(
            "error",
            reason="taken-over",
            text=f"Someone else logged in as {event.user}: you are no longer in the chat.",
        )
    if isinstance(event, RelayStyleLearned):
        if event.presumed is RelayStyle.UNKNOWN:
            return None
        return frame("notice", text=_STYLE_WORDS.get(event.style, ""))
    if isinstance(event, UnrecognisedLine):
        return frame("raw", text=event.text, at=at_ms)
    return None
