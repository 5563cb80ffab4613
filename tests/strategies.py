"""Hypothesis strategies for the protocol's values and messages."""

from __future__ import annotations

from hypothesis import strategies as st

from protocol_lib import (
    MAX_NAME_CHARS,
    Bye,
    ChatMessage,
    ChatRelay,
    ExitRequest,
    ListRequest,
    LoginRequest,
    UserList,
    Welcome,
    name_problem,
    text_problem,
)

# Printable characters of every script, with commas, colons and blanks inside.
_chars = st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp"))

names = st.text(_chars, min_size=1, max_size=MAX_NAME_CHARS).filter(
    lambda n: name_problem(n) is None
)
texts = st.text(_chars, min_size=1, max_size=200).filter(lambda t: text_problem(t) is None)
texts_with_commas = st.builds(lambda a, b: f"{a}, {b}", texts, texts).filter(
    lambda t: text_problem(t) is None
)

client_messages = st.one_of(
    st.builds(LoginRequest, names),
    st.builds(ChatMessage, st.one_of(texts, texts_with_commas)),
    st.just(ListRequest()),
    st.just(ExitRequest()),
)
server_messages = st.one_of(
    st.builds(Welcome, names),
    st.builds(Bye, names),
    st.builds(ChatRelay.attributed, names, texts),
    st.builds(ChatRelay, texts),
    st.builds(lambda users: UserList(tuple(users)), st.lists(names, max_size=8, unique=True)),
)

VALID_DATAGRAMS = [
    b"login,bob",
    b"msg,hello, world",
    b"list,",
    b"exit,",
    b"welcome,bob",
    b"bye,bob",
    b"msg,bob: hi",
    b"list,alice,bob",
    "msg,caf\u00e9 \u2603".encode(),
]


MAX_MUTATED_BYTES = 70_000  # past the 65,536 bytes a reader takes: long enough for every rule


@st.composite
def mutated_datagrams(draw) -> bytes:
    """A valid datagram with a few bytes flipped, cut, duplicated or inserted."""
    data = bytearray(draw(st.sampled_from(VALID_DATAGRAMS)))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "cut", "insert", "case", "dup"]))
        pos = draw(st.integers(0, max(0, len(data) - 1)))
        if op == "flip" and data:
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif op == "cut":
            del data[pos:]
        elif op == "insert":
            data[pos:pos] = draw(st.sampled_from([b",", b" ", b"\n", b"\r\n", b"\xc3", b"\x00"]))
        elif op == "case":
            data[:] = data.swapcase()
        elif op == "dup":  # capped: four dups of x200 made 478 MB (and a missed deadline)
            data[:] = (data * draw(st.integers(2, 200)))[:MAX_MUTATED_BYTES]
    return bytes(data)
