"""The chat page in a real browser (issue 27): Debian's chromium driven by Playwright,
against the gateway and a real server on loopback; a desktop-protocol client (our
ClientCore on real sockets) on the other side."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

pytest.importorskip("aiohttp")
playwright = pytest.importorskip("playwright.sync_api")

from tests.helpers_net import LOOPBACK, ROOT, WAIT, UdpClient, running_server  # noqa: E402
from tests.helpers_web import ARGS, CHROMIUM, PHONE, free_tcp_port, gateway_for  # noqa: E402
from tests.peers.servers import PeerServer  # noqa: E402
from tests.peers.typist import Typist  # noqa: E402

ARTIFACTS = ROOT / "tests" / "artifacts"
WAIT_MS = int(WAIT * 1000)
HOSTILE = [
    "<img src=x onerror=\"window.__pwned='img'\">",
    "<script>window.__pwned='script'</script>",
    "\u202eevil\u202c mirrored text",
    "p\u0430ypal.com look-alike (Cyrillic \u0430)",
]


@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: scripts/setup test installs Debian's chromium")
        pytest.skip(f"{CHROMIUM} is missing (scripts/setup test installs it)")
    with playwright.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()


def open_page(browser, url: str, **context):  # type: ignore[no-untyped-def]
    page = browser.new_context(**context).new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("pageerror", lambda e: dialogs.append(f"error: {e}"))
    page.set_default_timeout(WAIT_MS)
    page.goto(url)
    page.dialogs = dialogs
    return page


def join(page, name: str) -> None:  # type: ignore[no-untyped-def]
    page.get_by_label("Your name").fill(name)
    page.get_by_role("button", name="Join").click()
    page.wait_for_selector("#chat:not([hidden])")
    page.wait_for_function("() => document.getElementById('link').textContent === 'In the chat'")


def say(page, text: str) -> None:  # type: ignore[no-untyped-def]
    page.get_by_label("Message").fill(text)
    page.keyboard.press("Enter")


def texts(page) -> list[str]:  # type: ignore[no-untyped-def]
    return page.eval_on_selector_all("#log .msg .text", "els => els.map(e => e.textContent)")


def wait_for_text(page, text: str) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_function(
        "t => [...document.querySelectorAll('#log .text')].some(e => e.textContent === t)",
        arg=text,
    )


def nothing_ran(page) -> None:  # type: ignore[no-untyped-def]
    assert page.evaluate("window.__pwned") is None
    assert page.dialogs == []
    assert page.eval_on_selector_all("#log img, #log script, #people img", "e => e.length") == 0


@pytest.mark.parametrize("relay", ["ours", "plain"])
def test_a_browser_and_a_desktop_client_chat_both_ways_and_markup_stays_text(browser, relay):
    """Through our server (attributed relay) and a plain-relay server (the spec's ``msg,<text>``):
    names and lines with markup, scripts, bidi controls and look-alikes show as inert text."""
    with running_server() if relay == "ours" else _plain_server() as server:
        addr, group, group_port = server.addr, server.group, server.group_port
        style = "attributed" if relay == "ours" else "plain"
        with gateway_for(addr, group, group_port, relay=style) as gateway:
            typist = Typist(addr[1], group, group_port)
            try:
                typist.type("/login dana")
                assert typist.in_chat()
                page = open_page(browser, gateway.url, viewport=PHONE)
                name = "<img src=x onerror=alert(1)>"
                join(page, name)  # (the gateway's hello came before the join)
                # no --title: the page's own name, not the server's address
                assert page.text_content("#title") == "LAN chat" == page.title()
                for line in HOSTILE:  # the desktop client first (it learns the relay style)
                    typist.type(line)
                    wait_for_text(page, line)
                shown = texts(page)
                assert shown == HOSTILE  # exactly as typed, as text
                for line in HOSTILE:
                    say(page, line)
                for line in HOSTILE:  # the desktop client reads each, with its sender
                    wanted = (name, line) if relay == "ours" else (None, line)
                    assert typist.sees(
                        lambda w=wanted: any((m.sender, m.text) == w for m in typist.incoming)
                    ), (wanted, typist.incoming)
                page.wait_for_function(  # and each of the page's own lines is marked relayed
                    "n => document.querySelectorAll('#log .mark[aria-label=\"relayed to "
                    "everyone\"]').length === n",
                    arg=len(HOSTILE),
                )
                assert texts(page) == HOSTILE * 2
                if relay == "ours":
                    senders = page.eval_on_selector_all(
                        "#log .who", "e => e.map(x => x.textContent)"
                    )
                    assert "dana" in senders
                people = page.eval_on_selector_all("#people li", "e => e.map(x => x.textContent)")
                assert f"{name} (you)" in people
                nothing_ran(page)
                page.context.close()
            finally:
                typist.close()


class _plain_server:
    """The interop notes' "no-sender" server: relays ``msg,<text>`` with no sender."""

    def __enter__(self):  # type: ignore[no-untyped-def]
        from tests.helpers_net import free_udp_port, unique_group

        self.group, self.group_port = unique_group(), free_udp_port()
        self.peer = PeerServer("no-sender", LOOPBACK, self.group, self.group_port, LOOPBACK)
        self.addr = self.peer.addr
        return self

    def __exit__(self, *exc):  # type: ignore[no-untyped-def]
        self.peer.close()


def test_the_page_fits_a_phone_and_a_desktop(browser):
    """At 390x844 nothing runs off the side, the input and Send are on screen and the people
    are a button; on a desktop they are a column. Pictures go to tests/artifacts (and
    docs/ with LANCHAT_WRITE_DOCS=1)."""
    ARTIFACTS.mkdir(exist_ok=True)
    with (
        running_server() as server,
        gateway_for(server.addr, server.group, server.group_port, title="Room 12 · Maths") as gw,
    ):
        typist = Typist(server.addr[1], server.group, server.group_port)
        try:
            typist.type("/login Ms Rivera")
            assert typist.in_chat()
            shots = {}
            for label, context in (
                ("phone", {"viewport": PHONE, "device_scale_factor": 2, "is_mobile": True,
                           "has_touch": True}),
                ("phone-dark", {"viewport": PHONE, "device_scale_factor": 2, "is_mobile": True,
                                "has_touch": True, "color_scheme": "dark"}),
                ("phone-360", {"viewport": {"width": 360, "height": 740}, "is_mobile": True}),
                ("desktop", {"viewport": {"width": 1280, "height": 800}}),
            ):  # fmt: skip
                page = open_page(browser, gw.url, **context)
                join(
                    page, {"phone": "sam", "phone-dark": "noor", "desktop": "lee"}.get(label, "kim")
                )
                typist.type("Good morning! Open the worksheet on page 12, please.")
                say(page, "Morning! Which exercise first?")
                typist.type("Start with exercise 3; it builds on yesterday's.")
                say(page, "ok 👍")
                wait_for_text(page, "Start with exercise 3; it builds on yesterday's.")
                page.wait_for_function(
                    "() => document.querySelectorAll('#log .mark[aria-label=\"relayed to "
                    "everyone\"]').length === 2"
                )
                width = page.evaluate("document.documentElement.scrollWidth")
                view = page.viewport_size
                assert width <= view["width"], f"{label}: {width} px wide"
                send = page.get_by_role("button", name="Send").bounding_box()
                assert send["x"] + send["width"] <= view["width"]
                assert send["y"] + send["height"] <= view["height"]
                people_button = page.locator("#people-button")
                assert people_button.is_visible() == label.startswith("phone")
                assert page.locator("#people").is_visible() == (label == "desktop")
                shots[label] = ARTIFACTS / f"web-{label}.png"
                page.screenshot(path=str(shots[label]))
                nothing_ran(page)
                if label.startswith("phone"):  # the people (and Leave) open from their button
                    people_button.click()
                    assert page.get_by_role("button", name="Leave the chat").is_visible()
                    page.screenshot(path=str(ARTIFACTS / f"web-{label}-people.png"))
                page.locator("#leave").click()  # the next picture's list: the teacher and one
                assert page.text_content("#leave") == "Tap again to leave"  # asked first
                page.locator("#leave").click()
                page.wait_for_selector("#join:not([hidden])")
                page.context.close()
            if os.environ.get("LANCHAT_WRITE_DOCS"):
                for label, path in shots.items():
                    if label != "phone-360":
                        shutil.copy(path, ROOT / "docs" / f"web-{label}.png")
        finally:
            typist.close()


def test_the_page_comes_back_by_itself_when_the_gateway_restarts(browser):
    port = free_tcp_port()
    with running_server() as server:
        chat = (server.addr, server.group, server.group_port)
        typist = Typist(server.addr[1], server.group, server.group_port)
        try:
            typist.type("/login dana")
            assert typist.in_chat()
            with gateway_for(*chat, http_port=port) as gateway:
                page = open_page(browser, gateway.url)
                join(page, "sam")
                say(page, "before the restart")
                wait_for_text(page, "before the restart")
            # stopped: the page says so and keeps trying
            page.wait_for_function(
                "() => document.getElementById('link').classList.contains('down')"
            )
            server.wait_for_line(r"exit request has arrived from user: sam@")
            with gateway_for(*chat, http_port=port):
                page.wait_for_function(
                    "() => document.getElementById('link').textContent === 'In the chat'",
                    timeout=WAIT_MS * 3,
                )
                server.wait_for_line(r"login request has arrived from sam@")
                typist.type("welcome back")
                wait_for_text(page, "welcome back")
                assert "before the restart" in texts(page)  # the conversation is kept
                say(page, "after the restart")
                assert typist.sees(
                    lambda: (
                        "sam: after the restart" in typist.shown
                        or any(m.text == "after the restart" for m in typist.incoming)
                    )
                )
                nothing_ran(page)
                page.context.close()
        finally:
            typist.close()


def test_a_duplicated_tab_takes_the_chat_over_once_and_the_first_stops_trying(browser):
    """A browser's "Duplicate tab" copies the page's session: the new tab takes it, the old
    one says so and does not reconnect (two tabs taking it back in turns would never end)."""
    with running_server() as server:
        with gateway_for(server.addr, server.group, server.group_port) as gateway:
            first = open_page(browser, gateway.url)
            join(first, "sam")
            stored = first.evaluate("() => JSON.stringify(Object.entries(sessionStorage))")
            second = first.context.new_page()
            opened = []
            first.on("websocket", lambda ws: opened.append(ws.url))
            second.add_init_script(f"for (const [k, v] of {stored}) sessionStorage.setItem(k, v);")
            second.goto(gateway.url)
            second.wait_for_function(
                "() => document.getElementById('link').textContent === 'In the chat'"
            )
            first.wait_for_function(
                "() => document.getElementById('link').textContent === 'Open in another tab'"
            )
            say(second, "from the second tab")
            wait_for_text(second, "from the second tab")
            first.wait_for_timeout(1500)  # a page that reconnected would have opened one by now
            assert opened == []
            assert server.wait_for_line(r"login request has arrived from sam@")  # once only
            first.context.close()


def test_a_reloaded_page_is_back_in_the_same_session_with_its_lines(browser):
    with running_server() as server:
        with gateway_for(server.addr, server.group, server.group_port) as gateway:
            page = open_page(browser, gateway.url)
            join(page, "sam")
            say(page, "before the reload")
            wait_for_text(page, "before the reload")
            page.reload()
            page.wait_for_function(
                "() => document.getElementById('link').textContent === 'In the chat'"
            )
            wait_for_text(page, "before the reload")  # replayed from the session
            assert len(gateway.gateway.users) == 1  # the same person, not a second login
            say(page, "after the reload")
            page.wait_for_function(
                "() => document.querySelectorAll('#log .mark[aria-label=\"relayed to "
                "everyone\"]').length === 2"
            )
            nothing_ran(page)
            page.context.close()


def test_a_server_that_stops_is_said_on_the_page(browser):
    with running_server() as server:
        with gateway_for(server.addr, server.group, server.group_port) as gateway:
            page = open_page(browser, gateway.url, viewport=PHONE)
            join(page, "sam")
            server.stop()  # it says bye to everyone
            page.wait_for_selector("#join:not([hidden])")
            page.wait_for_function(
                "() => document.getElementById('join-error').textContent.includes('ended')"
            )
            said = page.text_content("#join-error")
            assert "Join again when it is back" in said and "/login" not in said
            assert page.text_content("#link") == "Not in the chat"
            assert page.input_value("#name") == "sam"  # ready to join again
            page.context.close()


def test_a_long_paste_in_chinese_goes_out_whole_in_frames_the_gateway_takes(browser):
    """Five lines of 300 Chinese characters (900 bytes each, 4.5 KB as one frame, over the
    gateway's 4 KB): the page sends them in frames under the limit; all five are relayed."""
    with running_server() as server:
        with gateway_for(server.addr, server.group, server.group_port) as gateway:
            page = open_page(browser, gateway.url, viewport=PHONE)
            join(page, "lin")
            lines = [str(n) + "中" * 300 for n in range(5)]
            page.get_by_label("Message").fill("\n".join(lines))
            page.keyboard.press("Enter")
            page.wait_for_function(
                "() => document.querySelectorAll('#log .mark[aria-label=\"relayed to "
                "everyone\"]').length === 5"
            )
            assert texts(page) == lines
            assert page.input_value("#text") == ""
            assert gateway.gateway.limit_log.bitten["bad-websocket"] == 0
            page.context.close()


def test_a_page_nobody_joins_lets_go_of_its_connection_until_someone_does(browser):
    with running_server() as server:
        with gateway_for(
            server.addr, server.group, server.group_port, login_within=1.0, heartbeat=0.3
        ) as gateway:
            page = open_page(browser, gateway.url)
            page.wait_for_function("() => document.getElementById('link').textContent === ''")
            opened: list[str] = []  # closed for idling (4003); from now on, no reconnecting
            page.on("websocket", lambda ws: opened.append(ws.url))
            page.wait_for_timeout(1500)  # a page that reconnected would have by now
            assert opened == [] and not gateway.gateway.connections
            join(page, "sam")  # Join opens it again and logs in
            assert len(opened) == 1
            page.context.close()


def test_a_line_typed_on_a_dead_connection_is_kept_and_goes_once_it_is_back(browser):
    """Issue 36, point 7: Wi-Fi off (the link down, the socket not closed), Jonas typed "is it
    3/4?", Enter cleared the box, and the line was never seen again.  Now it shows at once
    with a clock, the page finds the dead connection by itself within seconds and says so,
    and once the link is back the line goes, once (what the dead connection held arrives
    late and is not said twice), and is marked relayed."""
    from tests.helpers_web import LinkProxy

    with running_server() as server:
        addr, group, group_port = server.addr, server.group, server.group_port
        with gateway_for(addr, group, group_port) as gateway:
            port = int(gateway.url.rstrip("/").rsplit(":", 1)[1])
            proxy = LinkProxy((LOOPBACK, port))
            typist = Typist(addr[1], group, group_port)
            try:
                typist.type("/login dana")
                assert typist.in_chat()
                page = open_page(browser, proxy.url, viewport=PHONE)
                join(page, "jonas")
                proxy.down()  # the Wi-Fi goes
                say(page, "is it 3/4?")
                bubble = page.locator("#log .msg.mine", has_text="is it 3/4?")
                assert bubble.count() == 1  # at once, with its clock
                mark = bubble.locator(".mark").get_attribute("aria-label")
                assert mark == "waiting for the connection"
                assert page.input_value("#text") == ""
                page.wait_for_function(
                    "() => document.getElementById('link').textContent.startsWith("
                    "'Connection lost')",
                    timeout=10_000,
                )
                proxy.up()  # back: the page connects again, and what waited arrives late too
                page.wait_for_function(
                    "() => [...document.querySelectorAll('#log .msg.mine')].some(li => "
                    "li.textContent.includes('is it 3/4?') && li.querySelector("
                    "'.mark[aria-label=\"relayed to everyone\"]'))",
                    timeout=15_000,
                )
                heard = lambda t: [m for m in typist.incoming if m.text.endswith(t)]  # noqa: E731
                assert typist.sees(lambda: heard("is it 3/4?"))
                page.wait_for_function(
                    "() => !document.querySelector('#log .outbox')"
                )  # the kept copy is gone: one bubble for the line
                assert [t for t in texts(page) if t == "is it 3/4?"] == ["is it 3/4?"]
                server.wait_for_line(r'msg "is it 3/4\?" has arrived from user: jonas@')
                say(page, "after")  # once this is through, anything said twice is too
                assert typist.sees(lambda: heard("after"))
                said = [line for line in server.history if '"is it 3/4?"' in line]
                assert len(said) == 1, said
                assert len(heard("is it 3/4?")) == 1
                page.context.close()
            finally:
                typist.close()
                proxy.close()


def test_a_chat_the_host_ended_is_said_and_a_new_one_there_takes_nobody_in_unasked(browser):
    """Issue 36, point 7: after "End the chat" the phones said "Reconnecting…" for ever, and
    a chat hosted a minute later on the same laptop took them in without asking.  Now the
    page says the host ended the chat, and a new chat at the same address takes it in only
    when Join is pressed (one tap)."""
    port = free_tcp_port()
    with running_server() as server:
        chat = (server.addr, server.group, server.group_port)
        with gateway_for(*chat, http_port=port) as gateway:
            page = open_page(browser, gateway.url, viewport=PHONE)
            join(page, "amira")
            say(page, "worksheet at https://example.org/ws")
            page.wait_for_selector("#log .mark[aria-label='relayed to everyone']")
            gateway.stop(ended=True)  # what the host's "End the chat" does
        page.wait_for_function(
            "() => document.getElementById('ended-text').textContent.startsWith("
            "'The host ended the chat')"
        )
        assert page.text_content("#link") == "The chat has ended"
        # the conversation stays to be read (a trial's phone lost it all, the link too)
        assert page.is_visible("#log a[href='https://example.org/ws']")
        assert not page.is_visible("#say-form") and not page.is_visible("#join")
        server.wait_for_line(r"exit request has arrived from user: amira@")
        with gateway_for(*chat, http_port=port):
            # a while for a reconnect that must not come (the old page reconnected at once)
            page.wait_for_timeout(2500)
            assert page.text_content("#link") == "The chat has ended"
            assert not [
                line for line in server.history if "login request has arrived from amira" in line
            ][1:]
            page.get_by_role("button", name="Join again").click()  # one tap: the name is kept
            page.wait_for_function(
                "() => document.getElementById('link').textContent === 'In the chat'",
                timeout=WAIT_MS * 2,
            )
            nothing_ran(page)
            page.context.close()


def test_the_page_asks_before_a_long_paste_keeps_the_keyboard_and_links_are_links(browser):
    """Issue 36, point 7's smaller findings: 7 pasted lines went as 7 bubbles unasked (the
    window asks above 5); Send took the focus (a phone's keyboard closed after each tap);
    links were plain text; 27 leaves were 27 lines; your own join read "Amira joined"."""
    with running_server() as server:
        addr, group, group_port = server.addr, server.group, server.group_port
        with gateway_for(addr, group, group_port) as gateway:
            typist = Typist(addr[1], group, group_port)
            try:
                page = open_page(browser, gateway.url, viewport=PHONE)
                join(page, "amira")
                page.wait_for_selector("#log .system >> text=You joined the chat.")
                assert not page.locator("#log .system", has_text="amira joined").count()
                typist.type("/login dana")  # others come, one after another: one line
                assert typist.in_chat()
                page.wait_for_selector("#log .system >> text=dana joined")
                paste = "\n".join(f"item {n}" for n in range(1, 8))
                page.get_by_label("Message").fill(paste)
                page.get_by_role("button", name="Send").click()
                assert "Send these 7 lines as 7 messages?" in page.text_content("#counter")
                assert page.input_value("#text") == paste and "item 1" not in texts(page)
                assert page.evaluate("document.activeElement.id") == "text"  # keyboard stays
                page.get_by_role("button", name="Send").click()  # yes
                wait_for_text(page, "item 7")
                assert page.evaluate("document.activeElement.id") == "text"
                typist.type("see https://example.org/worksheet.pdf, and <b>bold</b>")
                link = page.locator("#log a", has_text="https://example.org/worksheet.pdf")
                link.wait_for()
                assert link.get_attribute("href") == "https://example.org/worksheet.pdf"
                assert link.get_attribute("rel") == "noopener noreferrer"
                typist.type("javascript:alert(1) and http:// alone")  # no link made of these
                page.wait_for_selector("#log .text >> text=javascript:alert(1)")
                assert page.locator("#log a").count() == 1
                others = [UdpClient(addr) for _ in range(4)]
                for n, other in enumerate(others):
                    other.send(f"login,kid{n}".encode())
                page.wait_for_selector("#log .system >> text=kid0, kid1 and 2 others joined")
                for other in others:
                    other.send(b"exit,")
                page.wait_for_selector("#log .system >> text=kid0, kid1 and 2 others left")
                for other in others:
                    other.close()
                nothing_ran(page)
                page.context.close()
            finally:
                typist.close()


def _axe(page) -> list[str]:  # type: ignore[no-untyped-def]
    """axe-core's serious and critical violations on the page as it is now, one line each
    (axe-core from axe-playwright-python's copy, evaluated in the page: the page's own
    Content-Security-Policy refuses an injected script tag, rightly)."""
    import axe_playwright_python

    source = Path(axe_playwright_python.__file__).with_name("axe.min.js").read_text()
    page.evaluate(source)
    found = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']}))"
        ".violations.map(v => [v.impact, v.id, v.nodes.length, v.help])"
    )
    return [f"{impact} {rule} x{count}: {what}" for impact, rule, count, what in found
            if impact in ("serious", "critical")]  # fmt: skip


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_no_serious_accessibility_violation_on_any_screen(browser, scheme):
    """Issue 36, point 7: axe-core found <li>s outside a list role (x29), a scrollable log
    the keyboard could not reach, no main landmark, the ✓'s label unread and input borders
    at 1.3:1. Every screen of the page, light and dark, at phone size: joining, the chat
    with lines (others', a continued one, one's own with its mark, a link), the people
    open, and the chat ended by its host; none serious or critical."""
    pytest.importorskip("axe_playwright_python")
    with running_server() as server:
        chat = (server.addr, server.group, server.group_port)
        with gateway_for(*chat, title="Room 12") as gateway:
            typist = Typist(server.addr[1], server.group, server.group_port)
            try:
                typist.type("/login Ms Rivera")
                assert typist.in_chat()
                page = open_page(browser, gateway.url, viewport=PHONE, color_scheme=scheme)
                page.wait_for_selector("#join:not([hidden])")
                screens = {"join": _axe(page)}
                join(page, f"sam-{scheme}")
                for line in ("Good morning", "The sheet: https://example.com/sheet.pdf"):
                    typist.type(line)
                say(page, "Which exercise?")
                wait_for_text(page, "The sheet: https://example.com/sheet.pdf")
                page.wait_for_selector('#log .mark[aria-label="relayed to everyone"][role=img]')
                for _ in range(30):  # enough to scroll: the log must take the keyboard
                    typist.type("and more")
                page.wait_for_function("() => document.getElementById('log').scrollHeight > "
                                       "document.getElementById('log').clientHeight")  # fmt: skip
                screens["chat"] = _axe(page)
                spoken = page.eval_on_selector_all("#log .mine .bubble", "e => e.map(b => "
                                                   "b.textContent)")  # fmt: skip
                assert spoken[0].startswith("You: ") and spoken[0].endswith("Which exercise?")
                page.locator("#people-button").click()
                screens["people"] = _axe(page)
                gateway.stop(ended=True)
                page.wait_for_selector("#ended:not([hidden])")
                screens["ended"] = _axe(page)
                page.context.close()
            finally:
                typist.close()
    assert screens == {"join": [], "chat": [], "people": [], "ended": []}


def test_a_phone_turned_on_its_side_still_shows_the_latest_lines(browser):
    """Issue 36, point 7: rotating the phone left the view scrolled up, with no button for
    the new lines. A log that showed its latest lines still does after the turn (and the
    turn back); the title wraps at large text instead of shrinking to "la…"."""
    with running_server() as server:
        with gateway_for(
            server.addr, server.group, server.group_port, title="Room 12 · Maths"
        ) as gw:
            typist = Typist(server.addr[1], server.group, server.group_port)
            try:
                typist.type("/login Ms Rivera")
                assert typist.in_chat()
                page = open_page(browser, gw.url, viewport=PHONE, is_mobile=True, has_touch=True)
                join(page, "noor")
                for i in range(25):  # more than the phone's log shows (the server paces them)
                    typist.type(f"line {i}")
                page.wait_for_function(
                    "() => [...document.querySelectorAll('#log .text')].some(e => "
                    "e.textContent === 'line 24')",
                    timeout=WAIT_MS * 3,
                )
                left = "() => {const l = document.getElementById('log'); " \
                       "return l.scrollHeight - l.scrollTop - l.clientHeight}"  # fmt: skip
                for size in ({"width": 844, "height": 390}, PHONE, {"width": 640, "height": 360}):
                    page.set_viewport_size(size)
                    page.wait_for_function(f"() => ({left})() < 2")  # at the end again
                page.set_viewport_size(PHONE)
                page.evaluate("document.body.style.fontSize = '32px'")  # text at 200%
                title = page.locator("#title").bounding_box()
                assert title["height"] > 60 and title["width"] > 250  # two lines, not "Ro…"
                page.context.close()
            finally:
                typist.close()
