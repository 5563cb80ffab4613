"""The per-user session state machine and the login rules: everything that decides
what login, msg, list and exit do, in tables, in this one file (as h11's ``_state.py``).

Two tables.  ``TRANSITIONS`` is a ``transitions`` Machine built once for all
sessions: which request an address may make in which state, and where it
leads.  ``LOGIN_RULES`` decides a login from the asker's state and who holds
the name it asks for.  ``ServerCore`` only looks the answers up and carries
them out; the caps (sessions per host, in total) are limits, not rules, and
live beside it in ``ServerConfig``.

Sessions are NOT added to the Machine as models: ``Machine.add_model`` costs
O(N) per call (see transitions issue #434), which would make 100k logins
quadratic.  Instead each session is a small slotted object with a ``state``
attribute.  A (state, event) pair without a row is answered with a typed
``Rejection`` (its reason from ``REFUSALS``) before ``transitions`` is asked, so
nothing raises and nothing logs a warning per event.

None of today's rows has a condition or a callback, so there is nothing for
``transitions`` to run: ``fire`` moves a session by the Machine's own table,
read once (``_moves``), instead of its generic ``Event.trigger`` (about half a
login's cost: benchmarks/README.md, "Figures moved out of the code").  A
row given a callback is fired through ``Event.trigger`` again, which works on
any object carrying a ``state`` attribute.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from transitions import Machine

from .reasons import Reason


class SessionState(StrEnum):
    """Where an address is; the values are the machine's state names."""

    NEW = "new"  # not in the chat: never logged in, or exited (its session is dropped)
    ACTIVE = "active"  # logged in: may chat, list, exit, or log in again


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
    {"trigger": "exit", "source": "active", "dest": "new"},
]
"""What each request does in each state, one row per allowed (event, state) pair."""

REFUSALS: dict[SessionState, Reason] = {SessionState.NEW: Reason.NOT_LOGGED_IN}
"""What a state answers to a request it has no row for (a test checks every pair)."""


class NameHolder(StrEnum):
    """Who holds the name a login asks for (by ``canonical_name``), seen from the asker."""

    NOBODY = "nobody"
    THIS_ADDRESS = "this address"  # the asker, under that very spelling
    SAME_HOST = "same host"  # another port of the asker's host, the same spelling
    OTHER_HOST = "other host"  # another host, the same spelling
    LOOK_ALIKE = "look-alike"  # anyone, under a spelling that only looks the same


class LoginOutcome(StrEnum):
    """What an accepted login does."""

    JOIN = "join"  # a new session, welcomed (if the caps in ServerConfig allow)
    WELCOME_AGAIN = "welcome again"  # a retry of a login that was welcomed: welcome again
    TAKE_OVER = "take over"  # the session moves to the asker's port: a restarted client


# Keyed by the state's name as a session holds it (a SessionState is that very str).
LOGIN_RULES: dict[tuple[str, NameHolder], LoginOutcome | Reason] = {
    (SessionState.NEW, NameHolder.NOBODY): LoginOutcome.JOIN,
    (SessionState.NEW, NameHolder.SAME_HOST): LoginOutcome.TAKE_OVER,
    (SessionState.NEW, NameHolder.OTHER_HOST): Reason.NAME_TAKEN,
    (SessionState.NEW, NameHolder.LOOK_ALIKE): Reason.NAME_TAKEN,
    (SessionState.ACTIVE, NameHolder.THIS_ADDRESS): LoginOutcome.WELCOME_AGAIN,
    (SessionState.ACTIVE, NameHolder.NOBODY): Reason.ALREADY_LOGGED_IN,
    (SessionState.ACTIVE, NameHolder.SAME_HOST): Reason.ALREADY_LOGGED_IN,
    (SessionState.ACTIVE, NameHolder.OTHER_HOST): Reason.ALREADY_LOGGED_IN,
    (SessionState.ACTIVE, NameHolder.LOOK_ALIKE): Reason.ALREADY_LOGGED_IN,
}
"""A login, decided by the asker's state and the name's holder.

(NEW, THIS_ADDRESS) has no row because it cannot happen: an address that is
not in the chat holds no name.  An active address asking for another name must
exit first, whoever holds that name.
"""

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

    reason: Reason
    state: SessionState
    event: SessionEvent


class Session:
    """One user's place in the chat: a few hundred bytes, no machine registration."""

    __slots__ = ("state", "user", "addr", "relay_prefix", "spoke")

    def __init__(self, user: str, addr: tuple[str, int], relay_prefix: bytes = b"") -> None:
        self.state: str = SessionState.NEW.value
        self.user = user
        self.addr = addr
        self.relay_prefix = relay_prefix  # the server's ``msg,<user>: ``, encoded once
        self.spoke = 0.0  # when it joined or last said something (a full chat's choice)

    def __repr__(self) -> str:
        return f"Session({self.user!r}, {self.addr!r}, state={self.state!r})"


def _moves(event: SessionEvent, machine: Machine = MACHINE) -> dict[str, str | None]:
    """source state -> destination (None: stay) for the rows of ``event`` that
    ``transitions`` would carry out with nothing to call: no condition or callback on
    the row, no exit or entry callback on its states, none on the machine.

    ``fire`` applies those from this table, read once from the Machine (which stays
    the one description of the rules): its generic ``trigger`` cost 7.7 us of a
    login's 14 (measured), for a state change that is one attribute.  A row that
    gains a callback leaves this table and is triggered through ``transitions``.
    """
    machine_hooks = (
        machine.before_state_change, machine.after_state_change, machine.prepare_event,
        machine.finalize_event, machine.on_exception,
    )  # fmt: skip
    if any(machine_hooks):
        return {}
    moves: dict[str, str | None] = {}
    for source, rows in machine.events[event.value].transitions.items():
        if len(rows) != 1:
            continue
        row = rows[0]
        if row.prepare or row.conditions or row.before or row.after:
            continue
        if row.dest is not None:
            exits, enters = machine.states[source].on_exit, machine.states[row.dest].on_enter
            if exits or enters:
                continue
        moves[source] = row.dest
    return moves


_MOVES: dict[str, dict[str, str | None]] = {e.value: _moves(e) for e in SessionEvent}


def fire(session: Session, event: SessionEvent) -> Rejection | None:
    """Apply ``event`` to ``session``: None when allowed, else a Rejection."""
    state = session.state
    moves = _MOVES[event]  # a StrEnum member hashes as its value: no .value lookup
    if state in moves:
        dest = moves[state]
        if dest is not None:
            session.state = dest
        return None
    machine_event = MACHINE.events[event.value]
    if state not in machine_event.transitions:
        current = SessionState(state)
        return Rejection(REFUSALS[current], current, event)
    machine_event.trigger(session)
    return None


def name_holder(addr: tuple[str, int], name: str, holder: Session | None) -> NameHolder:
    """Who ``holder`` (the session holding ``name``'s canonical form) is to ``addr``."""
    if holder is None:
        return NameHolder.NOBODY
    if holder.user != name:
        return NameHolder.LOOK_ALIKE
    if holder.addr == addr:
        return NameHolder.THIS_ADDRESS
    if holder.addr[0] == addr[0]:
        return NameHolder.SAME_HOST
    return NameHolder.OTHER_HOST
