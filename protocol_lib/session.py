"""The per-user session state machine: the one table of what may happen when.

The table is a ``transitions`` Machine built once for all sessions.  Sessions
are NOT added to it as models: ``Machine.add_model`` costs O(N) per call (see
transitions issue #434), which would make 100k logins quadratic.  Instead each
session is a small slotted object with a ``state`` attribute, and events are
fired through the machine's own ``Event.trigger``, which works on any object
carrying that attribute.  Invalid (state, event) pairs are answered from the
machine's table with a typed ``Rejection`` before ``transitions`` is asked, so
nothing raises and nothing logs a warning per event.

``msg`` and ``list`` are internal transitions (``dest=None``) of ``active``: a
session stays where it is, and as they have no callbacks there is nothing for
``transitions`` to run, so ``fire`` answers them from the table alone (they
are the hot path: one per chat line).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from transitions import Machine


class SessionState(StrEnum):
    """Where a user's session is; the values are the machine's state names."""

    NEW = "new"  # an address we have heard from, not yet in the chat
    ACTIVE = "active"  # logged in: may chat, list, exit, or log in again
    GONE = "gone"  # exited; a gone session is never reused


class SessionEvent(StrEnum):
    """What a client can ask; the values are the wire types and machine triggers."""

    LOGIN = "login"
    MSG = "msg"
    LIST = "list"
    EXIT = "exit"


TRANSITIONS: list[dict[str, str | None]] = [
    {"trigger": "login", "source": "new", "dest": "active"},
    {"trigger": "login", "source": "active", "dest": None},  # idempotent retry / takeover
    {"trigger": "msg", "source": "active", "dest": None},
    {"trigger": "list", "source": "active", "dest": None},
    {"trigger": "exit", "source": "active", "dest": "gone"},
]
"""The whole protocol, one row per allowed (event, state) pair."""

MACHINE = Machine(
    model=None,
    states=[s.value for s in SessionState],
    transitions=TRANSITIONS,
    initial=SessionState.NEW.value,
    auto_transitions=False,
)


@dataclass(frozen=True, slots=True)
class Rejection:
    """An event that the session's state does not allow; nothing changed."""

    reason: str  # "not-logged-in" or "session-gone"
    state: SessionState
    event: SessionEvent


class Session:
    """One user's place in the chat: a few hundred bytes, no machine registration."""

    __slots__ = ("state", "user", "addr")

    def __init__(self, user: str, addr: tuple[str, int]) -> None:
        self.state: str = SessionState.NEW.value
        self.user = user
        self.addr = addr

    def __repr__(self) -> str:
        return f"Session({self.user!r}, {self.addr!r}, state={self.state!r})"


def _internal_only(event: SessionEvent) -> frozenset[str]:
    transitions = MACHINE.events[event.value].transitions
    return frozenset(
        source
        for source, rows in transitions.items()
        if all(
            t.dest is None and not (t.prepare or t.conditions or t.before or t.after) for t in rows
        )
    )


_INTERNAL: dict[str, frozenset[str]] = {e.value: _internal_only(e) for e in SessionEvent}
_REJECT_REASON = {SessionState.NEW.value: "not-logged-in", SessionState.GONE.value: "session-gone"}


def fire(session: Session, event: SessionEvent) -> Rejection | None:
    """Apply ``event`` to ``session``: None when allowed, else a Rejection."""
    state = session.state
    if state in _INTERNAL[event]:  # a StrEnum member hashes as its value: no .value lookup
        return None
    machine_event = MACHINE.events[event.value]
    if state not in machine_event.transitions:
        return Rejection(_REJECT_REASON.get(state, "invalid-event"), SessionState(state), event)
    machine_event.trigger(session)
    return None
