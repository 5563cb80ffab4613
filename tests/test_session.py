"""The session state machine: every (state, event) pair, without warnings or exceptions."""

from __future__ import annotations

import logging

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocol_lib import Reason, Rejection, Session, SessionEvent, SessionState
from protocol_lib.session import LOGIN_RULES, MACHINE, REFUSALS, NameHolder, fire

ALLOWED = {
    (SessionState.NEW, SessionEvent.LOGIN): SessionState.ACTIVE,
    (SessionState.ACTIVE, SessionEvent.LOGIN): SessionState.ACTIVE,
    (SessionState.ACTIVE, SessionEvent.MSG): SessionState.ACTIVE,
    (SessionState.ACTIVE, SessionEvent.LIST): SessionState.ACTIVE,
    (SessionState.ACTIVE, SessionEvent.EXIT): SessionState.NEW,
}


def session_in(state: SessionState) -> Session:
    session = Session("bob", ("127.0.0.1", 1))
    session.state = state.value
    return session


@pytest.mark.parametrize("state", list(SessionState))
@pytest.mark.parametrize("event", list(SessionEvent))
def test_every_state_event_pair(state, event, caplog):
    session = session_in(state)
    with caplog.at_level(logging.DEBUG, logger="transitions"):
        result = fire(session, event)
    if (state, event) in ALLOWED:
        assert result is None
        assert session.state == ALLOWED[(state, event)].value
    else:
        assert isinstance(result, Rejection)
        assert result.state is state and result.event is event
        assert result.reason is REFUSALS[state] is Reason.NOT_LOGGED_IN
        assert session.state == state.value  # nothing changed
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


@given(st.lists(st.sampled_from(list(SessionEvent)), max_size=30))
def test_any_event_sequence_stays_in_known_states(events):
    session = Session("bob", ("127.0.0.1", 1))
    for event in events:
        before = SessionState(session.state)
        result = fire(session, event)
        after = SessionState(session.state)
        if result is None:
            assert ALLOWED[(before, event)] is after
        else:
            assert (before, event) not in ALLOWED and after is before


def test_sessions_are_never_registered_with_the_machine():
    models_before = list(MACHINE.models)
    sessions = [Session(f"u{i}", ("127.0.0.1", i)) for i in range(100)]
    for session in sessions:
        fire(session, SessionEvent.LOGIN)
        fire(session, SessionEvent.EXIT)
    assert list(MACHINE.models) == models_before
    assert all(s.state == "new" for s in sessions)


def test_the_table_lives_in_transitions():
    # msg in NEW is refused by the machine's own table, not by an ad-hoc check
    assert "new" not in MACHINE.events["msg"].transitions
    assert MACHINE.get_transitions("exit", "active", "new")


def test_every_state_is_reachable_and_refuses_with_a_reason():
    reached = {SessionState.NEW} | {dest for dest in ALLOWED.values()}
    assert reached == set(SessionState)
    for state in SessionState:
        refused = [e for e in SessionEvent if (state, e) not in ALLOWED]
        assert not refused or state in REFUSALS


def test_login_rules_cover_every_possible_pair_and_no_impossible_one():
    """An address that is not in the chat holds no name: that pair alone has no row."""
    impossible = {(SessionState.NEW, NameHolder.THIS_ADDRESS)}
    every = {(state, holder) for state in SessionState for holder in NameHolder}
    assert set(LOGIN_RULES) == every - impossible


def test_rows_with_nothing_to_run_move_by_the_table_and_rows_with_callbacks_do_not():
    from transitions import Machine

    from protocol_lib.session import TRANSITIONS, _moves

    assert _moves(SessionEvent.LOGIN) == {"new": "active", "active": None}
    assert _moves(SessionEvent.EXIT) == {"active": "new"}
    with_callback = [dict(row) for row in TRANSITIONS]
    with_callback[0]["after"] = "note"  # new --login--> active, with a callback
    machine = Machine(
        model=None, states=[s.value for s in SessionState], transitions=with_callback,
        initial="new", auto_transitions=False,
    )  # fmt: skip
    assert "new" not in _moves(SessionEvent.LOGIN, machine)  # left to Event.trigger
    machine.states["active"].add_callback("enter", "note")
    assert _moves(SessionEvent.EXIT, machine) == {"active": "new"}  # enters new: no callback
    assert "new" not in _moves(SessionEvent.LOGIN, machine)
