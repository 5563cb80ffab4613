"""The presenter and the display rules, without Qt: what each event looks like."""

from __future__ import annotations

from unicodedata import category

from hypothesis import given
from hypothesis import strategies as st

from protocol_lib import (
    ClientState,
    DeliveryFailed,
    IncomingMessage,
    MessageDelivered,
    OutgoingMessage,
    SendDatagram,
    StateChanged,
    UnrecognisedLine,
    UserJoined,
)
from protocol_lib.client_events import (
    MessageSent,
    MessageStatus,
    NameTakenOver,
    NotFromServer,
    RelayStyle,
    RelayStyleLearned,
    UserListShown,
)
from protocol_lib.display import isolate, shown_name, shown_text
from qml_client.presenter import ChatLine, LineKind, Presenter


def present(events, me="bob"):
    return Presenter(now=lambda: 1_796_220_000.0).present(events, me)


def test_own_line_marks_in_one_batch_and_across_batches():
    update = present(
        [
            SendDatagram(b"msg,a"),
            OutgoingMessage(1, "a"),
            OutgoingMessage(2, "b", MessageStatus.QUEUED),
            MessageDelivered(1),
        ]
    )
    assert not hasattr(update, "datagrams")  # sends are the driver's, not the view's
    assert [(line.line_text, line.status) for line in update.lines] == [
        ("a", "delivered"),
        ("b", "queued"),
    ]
    later = present([MessageSent(2), DeliveryFailed((2,))])
    assert later.statuses == [(2, "pending"), (2, "failed")]


def test_foreign_text_is_neutralised_everywhere():
    update = present(
        [
            IncomingMessage("al\u200bice", "evil \u202etxt.exe"),
            UserJoined("\u202eevil"),
            UnrecognisedLine("a\x07b\nc", "unknown-type"),
            NotFromServer("10.0.0.66", "bye,\u202ebob"),
            UserListShown(("a\u2066b", "c")),
        ]
    )
    rows = [(line.kind, line.sender, line.line_text) for line in update.lines]
    assert rows == [
        ("in", "al<U+200B>ice", "evil <U+202E>txt.exe"),
        ("system", "", "<U+202E>evil joined"),
        ("raw", "", "a\u2407b\u240ac"),
        ("foreign", "10.0.0.66", "bye,<U+202E>bob"),
        ("system", "", "In the chat (2): a<U+2066>b, c"),
    ]
    assert update.incoming == 1


def test_takeover_plain_relay_and_state_lines():
    update = present(
        [
            NameTakenOver("bob"),
            StateChanged(ClientState.LOGGED_OUT, None),
            RelayStyleLearned(RelayStyle.PLAIN),
            RelayStyleLearned(RelayStyle.ATTRIBUTED),
        ]
    )
    texts = [(line.kind, line.line_text) for line in update.lines]
    assert texts[0][0] == "error" and "took the name over" in texts[0][1]
    assert "/login" in texts[0][1]
    assert texts[1] == ("system", "You are not in the chat.")
    assert "without their sender's name" in texts[2][1]
    assert len(texts) == 3  # an attributed relay is the normal case: nothing to say
    assert update.state_changed


def test_a_batch_says_whether_any_of_its_lines_is_an_error():
    from protocol_lib import LocalError, Notice
    from protocol_lib.reasons import Reason

    chat = [IncomingMessage("alice", "hi"), UserJoined("carol"), Notice("fine")]
    assert not present(chat).failed
    assert present([*chat, NameTakenOver("bob")]).failed
    assert present([LocalError(Reason.NAME_EMPTY, "no name"), *chat]).failed


def test_ordinary_text_is_untouched():
    for text in ("hello, world", "\u4f60\u597d \U0001f468\u200d\U0001f469\u200d\U0001f467",
                 "tab\there", "\u05e9\u05dc\u05d5\u05dd"):  # fmt: skip
        assert shown_text(text) == text
    assert shown_name("Zo\u00eb") == "Zo\u00eb"


@given(st.text(max_size=60))
def test_shown_text_has_no_invisible_or_reordering_characters_left(text):
    shown = shown_text(text)
    kept = "\u200c\u200d\t"  # joiners (emoji, Persian) and tabs
    assert all(ch.isprintable() or ch in kept or category(ch) in ("Zs", "Co") for ch in shown)
    assert all(ch.isprintable() or category(ch) == "Co" for ch in shown_name(text))


def test_isolate_wraps_in_first_strong_isolate():
    assert isolate("\u05e9") == "\u2068\u05e9\u2069"


def test_chat_line_defaults():
    assert ChatLine(LineKind.IN, "x") == ChatLine(LineKind.IN, "x", "", "", None, 0)


def test_input_history_recalls_lines_like_a_shell():
    from qml_client.recall import InputRecall

    history = InputRecall(limit=3)
    assert history.previous() == "" and history.next() == ""
    for line in ["one", "two", "two", "  ", "three", "four"]:
        history.add(line)
    assert [history.previous() for _ in range(4)] == ["four", "three", "two", "two"]
    assert [history.next() for _ in range(3)] == ["three", "four", ""]


def test_tab_completes_the_last_word_to_a_name_in_the_chat():
    from qml_client.recall import complete_name

    names = ["alice", "Albert", "bob", "me"]
    assert complete_name("bo", names) == "bob: "  # the first word: addressing bob
    assert complete_name("ask BO", names) == "ask bob "
    assert complete_name("al", names) == "al"  # alice and Albert share only "al"
    assert complete_name("ali", names) == "alice: "
    assert complete_name("m", names, me="me") == "m"  # not yourself
    assert complete_name("zed", names) == "zed" and complete_name("", names) == ""
    assert complete_name("hello ", names) == "hello "


def test_a_mention_is_the_name_as_a_word_of_its_own():
    from qml_client.presenter import mentions

    assert mentions("hi bob, lunch?", "bob") and mentions("BOB!", "bob")
    assert mentions("ask Ana Maria", "ana maria")
    assert not mentions("bobby tables", "bob") and not mentions("kebob", "bob")
    assert not mentions("bob_2 is here", "bob") and not mentions("", "bob")
    update = Presenter(lambda: 1_796_220_000.0).present(
        [IncomingMessage("alice", "bob: look"), IncomingMessage("alice", "nobody")], "bob"
    )
    assert [line.mention for line in update.lines] == [True, False]
    assert update.mentions == [update.lines[0]]


def test_links_are_http_addresses_without_trailing_punctuation():
    from qml_client.presenter import links_in

    assert links_in("see https://example.org/a?b=1, and http://x.test.") == [
        "https://example.org/a?b=1", "http://x.test"
    ]  # fmt: skip
    assert links_in("javascript:alert(1) file:///etc/passwd ftp://x") == []
    assert links_in("(https://example.org/wiki/Foo_(bar))") == ["https://example.org/wiki/Foo_(bar"]
    assert len(links_in(" ".join(f"https://h{i}.test" for i in range(30)))) == 20


@given(
    st.lists(st.sampled_from([*"<>&\"' \tab/:.\u00a0", "https://x.test/"]), max_size=30).map(
        "".join
    )
)
def test_a_linked_line_is_its_text_escaped_with_only_our_anchors(text):
    """Whatever a line holds, its StyledText reads back as the line (spaces kept), and the
    only markup in it is an anchor per address, pointing at the address's index."""
    import html
    import re

    from qml_client.presenter import linked_text, links_in

    links = links_in(text)
    styled = linked_text(text, links)
    anchors = re.findall(r'<a href="(\d+)">(.*?)</a>', styled)
    assert [links[int(i)] for i, _ in anchors] == [html.unescape(a) for _, a in anchors]
    bare = re.sub(r"</?a[^>]*>", "", styled)
    assert "<" not in bare and ">" not in bare
    assert html.unescape(bare).replace("\xa0", " ") == text.replace("\t", "    ").replace(
        "\xa0", " "
    )


def test_your_own_login_is_one_quiet_line():
    """Not four: the status line says "logging in", and your own join is the state line."""

    assert present([StateChanged(ClientState.LOGGING_IN, "bob")]).lines == []
    welcomed = present([UserJoined("bob"), StateChanged(ClientState.IN_CHAT, "bob")])
    assert [line.line_text for line in welcomed.lines] == ["You are in the chat as bob."]
    assert welcomed.roster_changed and welcomed.state_changed
    others = present([UserJoined("alice")])
    assert [line.line_text for line in others.lines] == ["alice joined"]


def test_a_rename_is_one_line_once_the_new_name_is_welcomed():
    """Issue 25, point 2: /nick showed as a leave and a join, five lines in the window."""
    from protocol_lib import ClientCore, UserLeft
    from qml_client.commands import typed_line

    core, presenter = ClientCore(), Presenter(now=lambda: 1_796_220_000.0)
    typed_line(core, "/login alice", 0.0)
    core.receive(b"welcome,alice", None, 0.1)
    shown: list[str] = []
    for events in (
        typed_line(core, "/nick alicia", 1.0),
        core.receive(b"bye,alice", None, 1.1),
        core.receive(b"welcome,alicia", None, 1.2),
    ):
        shown += [line.line_text for line in presenter.present(events, core.user).lines]
    assert shown == ["alice is now alicia (you)"]
    assert presenter.renaming is None
    # Someone else leaving meanwhile is still said; a rename refused is said as it is.
    presenter.present(typed_line(core, "/nick al", 2.0), core.user)
    assert presenter.renaming == ("alicia", "al")
    events = [UserLeft("carol")]
    for now in (3.0, 4.0, 5.0, 6.0):  # no welcome comes: the login is given up
        events += core.handle_timer(now)
    assert core.state is ClientState.LOGGED_OUT
    update = presenter.present(events, core.user)
    assert "carol left" in [line.line_text for line in update.lines]
    texts = [line.line_text for line in update.lines]
    assert presenter.renaming is None and "You are not in the chat." in texts


def test_a_burst_of_joins_is_one_line_and_the_people_list_is_not_buried():
    """Issue 37, point 4 (1,000 phantom logins were 1,000 lines) and issue 36, point 6
    (join and leave churn): joins in a row are one line, leaves in a row another."""
    from protocol_lib import UserLeft

    joins = [UserJoined(f"x{i}") for i in range(1000)]
    update = present(joins)
    assert [line.line_text for line in update.lines] == ["x0, x1 and 998 others joined"]
    assert update.lines[0].kept  # the history keeps the one line, not a thousand
    few = present([UserJoined("amira"), UserJoined("jonas"), UserJoined("lea")])
    assert [line.line_text for line in few.lines] == ["amira, jonas and lea joined"]
    churn = present([
        UserJoined("amira"), UserLeft("jonas"), UserLeft("lea"),
        IncomingMessage("amira", "hi"), UserJoined("lea"),
    ])  # fmt: skip
    assert [line.line_text for line in churn.lines] == [
        "amira joined", "jonas and lea left", "hi", "lea joined"
    ]  # fmt: skip
    hostile = present([UserJoined("\u202eevil"), UserJoined("x")])
    assert hostile.lines[0].line_text == f"{shown_name(chr(0x202E) + 'evil')} and x joined"


def test_your_own_window_does_not_say_you_left_when_the_server_ends_the_chat():
    """Issue 36, point 6: "bob left" about yourself, beside "The server ended your session"."""
    from protocol_lib import ClientCore

    core, presenter = ClientCore(), Presenter(now=lambda: 1_796_220_000.0)
    presenter.present(core.login("bob", 0.0) + core.receive(b"welcome,bob", None, 0.1), core.user)
    events = core.receive(b"bye,alice", None, 1.0) + core.receive(b"bye,bob", None, 1.1)
    events += core.handle_timer(2.0)  # the core says the chat ended a moment after
    texts = [line.line_text for line in presenter.present(events, core.user).lines]
    assert "alice left" in texts and "bob left" not in texts
    assert any(text.startswith("The chat has ended") for text in texts)
