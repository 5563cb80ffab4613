"""The page's frames (web_gateway.frames): any text a browser sends parses or raises our
error; each event the page shows has its frame."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocol_lib.client_events import (
    DeliveryFailed,
    IncomingMessage,
    MessageDelivered,
    NotFromServer,
    SendDatagram,
    UserJoined,
)
from web_gateway.frames import FrameError, Leave, Login, Ping, Say, event_frame, read_request

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=80),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)


@given(st.one_of(st.text(max_size=300), json_values.map(json.dumps)))
def test_any_text_from_a_page_is_a_request_or_our_error(text):
    try:
        request = read_request(text)
    except FrameError as exc:
        assert str(exc)
    else:
        assert isinstance(request, Login | Say | Leave | Ping)


@pytest.mark.parametrize(
    ("text", "wanted"),
    [
        ('{"t":"say","text":"hi, all"}', Say("hi, all")),
        ('{"t":"login","name":"bob"}', Login("bob")),
        ('{"t":"login","name":"bob","resume":"abc","seen":7,"again":true}',
         Login("bob", "abc", 7, True)),
        ('{"t":"login","name":"bob","device":"d-1"}', Login("bob", device="d-1")),
        ('{"t":"leave"}', Leave()),
        ('{"t":"say","text":"hi","ref":1733600000000}', Say("hi", 1733600000000)),
        ('{"t":"ping"}', Ping()),
    ],
)  # fmt: skip
def test_the_pages_requests(text, wanted):
    assert read_request(text) == wanted


@pytest.mark.parametrize(
    "text",
    ['{"t":"say"}', '{"t":"say","text":5}', '{"t":"login","name":"x","seen":-1}',
     '{"t":"login","name":"x","seen":true}', '{"t":"login","name":"x","device":7}',
     '{"t":"login"}', '{"t":"nope"}', "[1]", "{", '{"t":"say","text":"x","ref":0}',
     '{"t":"say","text":"x","ref":"7"}', '{"t":"say","text":"x","ref":true}',
     '{"t":"say","text":"x","ref":9007199254740993}',
     '{"t":"say","text":"' + "x" * 5000 + '"}', '{"t":"login","name":"' + "n" * 65 + '"}'],
)  # fmt: skip
def test_what_is_not_a_request_says_why(text):
    with pytest.raises(FrameError):
        read_request(text)


def test_events_become_frames_the_page_shows_as_text():
    line = json.loads(event_frame(IncomingMessage("<b>a</b>", "<img src=x>"), 5))
    assert line == {"t": "line", "sender": "<b>a</b>", "text": "<img src=x>", "at": 5}
    assert json.loads(event_frame(MessageDelivered(3), 0))["ids"] == [3]
    assert json.loads(event_frame(DeliveryFailed((1, 2)), 0))["status"] == "failed"
    assert json.loads(event_frame(UserJoined("bob"), 9))["user"] == "bob"
    # the gateway sends datagrams itself and logs lines from non-servers: no frame
    assert event_frame(SendDatagram(b"x"), 0) is None
    assert event_frame(NotFromServer("10.0.0.9", "bye,alice"), 0) is None
