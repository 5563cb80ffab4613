"""The web gateway (issue 27) with real sockets: our server as a subprocess, the gateway in
a thread, pages played by WebSocket clients; everything on loopback."""

from __future__ import annotations

import asyncio
import signal
import socket
import subprocess
import sys

import pytest

pytest.importorskip("aiohttp")

from tests.helpers_net import (
    LOOPBACK,
    ROOT,
    WAIT,
    GroupSender,
    OutputLines,
    UdpClient,
    free_udp_port,
    running_server,
)
from tests.helpers_web import Page, free_tcp_port, gateway_for, slow_page


def in_chat(name: str):  # type: ignore[no-untyped-def]
    return lambda f: f["t"] == "state" and f["state"] == "in chat" and f["user"] == name


def kind(k: str, **fields):  # type: ignore[no-untyped-def]
    return lambda f: f["t"] == k and all(f.get(key) == v for key, v in fields.items())


@pytest.fixture
def chat():  # type: ignore[no-untyped-def]
    with running_server() as server:
        yield server


def run(coroutine):  # type: ignore[no-untyped-def]
    return asyncio.run(asyncio.wait_for(coroutine, 30))


def test_two_pages_chat_each_as_a_client_of_its_own(chat):
    with gateway_for(chat.addr, chat.group, chat.group_port) as gateway:

        async def scene() -> None:
            alice, bob = await Page.open(gateway.url), await Page.open(gateway.url)
            await alice.login("alice")
            await bob.login("<b>bob</b>")
            await alice.send(t="say", text="hi <img src=x onerror=alert(1)>\nsecond line")
            mine = await alice.wait_for(kind("mark", status="delivered"), "the delivered mark")
            assert [f["text"] for f in mine if f["t"] == "mine"][:2] == [
                "hi <img src=x onerror=alert(1)>",
                "second line",
            ]
            await bob.wait_for(
                kind("line", sender="alice", text="hi <img src=x onerror=alert(1)>"), "the line"
            )
            await bob.wait_for(kind("line", sender="alice", text="second line"), "line two")
            roster = [f for f in alice.frames if f["t"] == "joined"]
            assert {f["user"] for f in roster} >= {"alice", "<b>bob</b>"}
            await alice.close()
            await bob.close()

        run(scene())
    alice = chat.wait_for_line(r"login request has arrived from alice@\('127.0.0.1', (\d+)\)")
    bob = chat.wait_for_line(r"login request has arrived from <b>bob</b>@\('127.0.0.1', (\d+)\)")
    assert alice.group(1) != bob.group(1)  # one address and port per person


def test_a_page_back_from_a_drop_is_sent_only_what_it_missed(chat):
    with gateway_for(chat.addr, chat.group, chat.group_port) as gateway:

        async def scene() -> None:
            alice, bob = await Page.open(gateway.url), await Page.open(gateway.url)
            await alice.login("alice")
            await bob.login("bob")
            await alice.wait_for(kind("joined", user="bob"), "bob joined")
            token, seen = alice.token, alice.counted
            await alice.close()  # the Wi-Fi drops
            for n in range(3):
                await bob.send(t="say", text=f"while away {n}")
            await bob.wait_for(lambda f: f.get("ids") == [3] and f["status"] == "delivered", "3")
            back = await Page.open(gateway.url)
            await back.send(t="login", name="alice", resume=token, seen=seen, again=True)
            await back.wait_for(kind("attached", token=token, start=seen), "the same session")
            lines = [await back.next() for _ in range(3)]
            assert [f["text"] for f in lines] == [f"while away {n}" for n in range(3)]
            now = await back.next()  # then where she is now, with who is there
            assert now["t"] == "state" and now["state"] == "in chat" and "bob" in now["users"]
            with pytest.raises(TimeoutError):  # nothing twice, nothing else
                await back.next(0.3)
            await back.send(t="say", text="I am back")
            await bob.wait_for(kind("line", sender="alice", text="I am back"), "alice's line")
            assert not [f for f in bob.frames if f["t"] == "left"]  # she never left the chat
            await back.close()
            await bob.close()

        run(scene())


def test_a_page_that_does_not_come_back_leaves_the_chat(chat):
    with gateway_for(chat.addr, chat.group, chat.group_port, resume_within=0.3) as gateway:

        async def scene() -> None:
            alice, bob = await Page.open(gateway.url), await Page.open(gateway.url)
            await alice.login("alice")
            await bob.login("bob")
            await alice.close()
            await bob.wait_for(kind("left", user="alice"), "alice left")
            await bob.close()

        run(scene())
    chat.wait_for_line(r"exit request has arrived from user: alice@")


def test_foreign_origins_too_many_pages_big_frames_floods_and_idlers_are_refused(chat):
    # pings every 0.2 s: their pongs must not keep a page that never logs in
    with gateway_for(
        chat.addr, chat.group, chat.group_port, per_address=2, login_within=1.0, heartbeat=0.2
    ) as gateway:
        import aiohttp

        async def scene() -> None:
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await Page.open(gateway.url, Origin="http://evil.example")
            assert refused.value.status == 403
            port = gateway.url.rstrip("/").rsplit(":", 1)[1]
            rebound = f"evil.example:{port}"  # DNS rebinding: a name that points here
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await Page.open(gateway.url, Origin=f"http://{rebound}", Host=rebound)
            assert refused.value.status == 403  # issue 37, point 6
            for own in (f"localhost:{port}", f"{socket.gethostname()}.local:{port}"):
                page = await Page.open(gateway.url, Origin=f"http://{own}", Host=own)
                await page.close()
            same = gateway.url.rstrip("/")
            first = await Page.open(gateway.url, Origin=same)  # the page's own origin
            second = await Page.open(gateway.url)
            crowded = await Page.open(gateway.url)  # told why, then closed: a page can read it
            await crowded.wait_for(kind("error", reason="too-many-pages"), "the reason")
            assert await _closed(crowded) and crowded.ws.close_code == 4002
            await crowded.close()
            await first.login("alice")
            await first.ws.send_str("x" * 5000)  # not a chat line: the connection ends
            assert await _closed(first), "a 5 KB frame did not end the connection"
            for _ in range(25):
                await second.send(t="leave")  # a flood of frames: the burst is 20
            await second.wait_for(kind("error", reason="too-fast"), "the flood refused")
            idle = await Page.open(gateway.url)  # a place is free again; it never logs in
            assert await _closed(idle, 3), "an idle connection was kept"
            for page in (first, second, idle):
                await page.close()

        run(scene())
        bitten = gateway.gateway.limit_log.bitten
        assert {"origin", "per-address", "bad-websocket", "frames", "login-timeout"} <= set(bitten)


async def _closed(page: Page, timeout: float = WAIT) -> bool:
    try:
        while await page.next(timeout) is not None:
            pass
    except TimeoutError:
        return False
    return True


def test_a_page_that_stops_reading_is_dropped_and_holds_nobody_up():
    """The slow page is a raw socket that does the WebSocket handshake with a tiny receive
    buffer and then never reads; a flood of 4,000 lines of 900 bytes comes from the group
    (relayed by the server: only its socket speaks for it)."""
    with (
        running_server("--no-rate-limit", "--quiet") as chat,
        gateway_for(chat.addr, chat.group, chat.group_port, send_queue=64) as gateway,
    ):

        async def scene() -> None:
            good = await Page.open(gateway.url)
            await good.login("good")
            slow = slow_page(gateway.url)
            await good.wait_for(kind("joined", user="slowpoke"), "the slow page's person in")
            flooder = UdpClient(chat.addr)
            flooder.send(b"login,flooder")
            await good.wait_for(kind("joined", user="flooder"), "the flooder in")
            filler = "x" * 900
            for n in range(4000):
                flooder.send(f"msg,flood {n} {filler}".encode())
                if n % 200 == 0:
                    await asyncio.sleep(0.005)  # the server and the gateway read meanwhile
            flooder.send(b"msg,the last line")
            await good.wait_for(kind("line", text="the last line"), "the last line", 20)
            flooder.close()
            slow.close()
            await good.close()

        run(scene())
        assert gateway.gateway.limit_log.bitten["slow-page"] >= 1


def test_a_servers_per_host_cap_is_said_and_its_gateway_option_lifts_it(caplog):
    async def three(url: str) -> list[dict]:
        pages = [await Page.open(url) for _ in range(3)]
        outcomes = []
        for n, page in enumerate(pages):
            await page.send(t="login", name=f"phone{n}")
            seen = await page.wait_for(
                lambda f: f["t"] == "error" or (f["t"] == "state" and f["state"] == "in chat"),
                "welcome or error",
                8,
            )
            outcomes.append(page.frames[-1])
            del seen
        for page in pages:
            await page.close()
        return outcomes

    with running_server("--max-sessions-per-host", "2") as capped:
        with gateway_for(capped.addr, capped.group, capped.group_port) as gateway:
            outcomes = run(three(gateway.url))
    assert [o["t"] for o in outcomes] == ["state", "state", "error"]
    assert "2 are in through it" in outcomes[2]["text"]  # the person's words; the operator's:
    assert any("--gateway 127.0.0.1" in r.getMessage() for r in caplog.records)

    with running_server("--max-sessions-per-host", "2", "--gateway", LOOPBACK) as lifted:
        with gateway_for(lifted.addr, lifted.group, lifted.group_port) as gateway:
            outcomes = run(three(gateway.url))
    assert [o["state"] for o in outcomes] == ["in chat"] * 3


def test_stopping_the_gateway_takes_everyone_out_and_tells_the_pages(chat):
    gateway_ctx = gateway_for(chat.addr, chat.group, chat.group_port)
    gateway = gateway_ctx.__enter__()

    async def scene() -> Page:
        page = await Page.open(gateway.url)
        await page.login("alice")
        return page

    async def after(page: Page) -> int | None:
        assert await _closed(page)
        code = page.ws.close_code
        await page.session.close()
        return code

    loop = asyncio.new_event_loop()
    try:
        page = loop.run_until_complete(scene())
        gateway_ctx.__exit__(None, None, None)
        assert loop.run_until_complete(after(page)) == 1001  # going away: it reconnects
    finally:
        loop.close()
    chat.wait_for_line(r"exit request has arrived from user: alice@")


def test_a_chat_that_ends_tells_its_pages_so_and_they_join_nothing_by_themselves(chat):
    """Issue 36, point 7: after "End the chat" the phones said "Reconnecting…" for ever,
    and a chat hosted later on the same laptop took them in without asking.  A gateway
    stopped because its chat ends closes its pages with "the chat has ended" (4004)."""
    gateway_ctx = gateway_for(chat.addr, chat.group, chat.group_port)
    gateway = gateway_ctx.__enter__()
    loop = asyncio.new_event_loop()
    try:
        page = loop.run_until_complete(_logged_in(gateway.url, "alice"))
        gateway.stop(ended=True)  # as HostedServer.stop and lanchat-server --web do
        gateway_ctx.__exit__(None, None, None)
        assert loop.run_until_complete(_closed(page))
        assert page.ws.close_code == 4004
        loop.run_until_complete(page.session.close())
    finally:
        loop.close()
    chat.wait_for_line(r"exit request has arrived from user: alice@")


async def _logged_in(url: str, name: str) -> Page:
    page = await Page.open(url)
    await page.login(name)
    return page


def _page_loads_and_one_joins(url: str) -> None:
    import urllib.request

    with urllib.request.urlopen(url, timeout=WAIT) as page:
        assert page.status == 200

    async def join() -> None:
        page = await Page.open(url)
        await page.login("alice")
        await page.close()

    run(join())


def test_connections_that_never_finish_a_request_are_closed_and_pages_still_load(chat):
    """Issue 37, point 5: 9,000 TCP connections that never sent a byte (and slowloris ones,
    a header a byte at a time) were never closed and starved the page.  A connection gets
    ``request_within`` for a whole request; the page and the WebSocket still work meanwhile."""
    import time

    with gateway_for(chat.addr, chat.group, chat.group_port, request_within=1.0) as gateway:
        port = int(gateway.url.rstrip("/").rsplit(":", 1)[1])
        idle = [socket.create_connection((LOOPBACK, port), timeout=WAIT) for _ in range(20)]
        slow = socket.create_connection((LOOPBACK, port), timeout=WAIT)
        slow.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # and never the end
        try:
            _page_loads_and_one_joins(gateway.url)  # meanwhile
            deadline = time.monotonic() + WAIT
            for sock in [*idle, slow]:  # each is closed by the gateway: EOF, or a reset
                sock.settimeout(max(0.1, deadline - time.monotonic()))
                try:
                    while sock.recv(4096):
                        pass
                except ConnectionResetError:
                    pass
        finally:
            for sock in [*idle, slow]:
                sock.close()


def test_one_machines_idle_connections_cannot_keep_a_page_out(chat, caplog):
    """Issue 37, point 5: one machine opening connections and never sending a byte holds
    at most ``tcp_per_address`` of them (the rest are closed at accept, said once in the
    log); a page from another address loads and joins meanwhile."""
    import select
    import time

    with gateway_for(chat.addr, chat.group, chat.group_port, request_within=30.0) as gateway:
        port = int(gateway.url.rstrip("/").rsplit(":", 1)[1])
        cap = gateway.gateway.limits.tcp_per_address
        idle = [
            socket.create_connection((LOOPBACK, port), WAIT, source_address=("127.0.0.2", 0))
            for _ in range(cap + 40)
        ]
        try:
            closed: set[socket.socket] = set()
            deadline = time.monotonic() + WAIT
            while len(closed) < 40 and time.monotonic() < deadline:
                ready, _, _ = select.select([s for s in idle if s not in closed], [], [], 0.5)
                for sock in ready:
                    try:
                        if not sock.recv(4096):
                            closed.add(sock)
                    except ConnectionResetError:
                        closed.add(sock)
            assert len(closed) == 40  # turned away at once, not after request_within (30 s)
            assert gateway.gateway.tcp["127.0.0.2"] == cap
            _page_loads_and_one_joins(gateway.url)
        finally:
            for sock in idle:
                sock.close()
    said = [r.getMessage() for r in caplog.records if "limit connections" in r.getMessage()]
    assert len(said) == 1 and said[0].startswith("limit connections: 127.0.0.2: ")
    assert "(and 39 more like it)" not in said[0]  # the next line would count them


def test_the_page_and_nothing_else_is_served_with_its_guards(chat):
    import urllib.error
    import urllib.request

    with gateway_for(chat.addr, chat.group, chat.group_port) as gateway:
        with urllib.request.urlopen(gateway.url, timeout=WAIT) as reply:
            page = reply.read().decode()
            assert "script-src 'self'" in reply.headers["Content-Security-Policy"]
        # the conversation: a list (its items stay list items) that announces what is added
        assert '<ol id="log"' in page and 'aria-live="polite"' in page
        for asset in ("chat.js", "chat.css", "icon.svg"):
            with urllib.request.urlopen(gateway.url + asset, timeout=WAIT) as reply:
                assert reply.status == 200
        with urllib.request.urlopen(gateway.url + "qr.png", timeout=WAIT) as reply:
            assert reply.read().startswith(b"\x89PNG")
        for path in ("../pyproject.toml", "static/chat.js", "gateway.py", "x"):
            with pytest.raises(urllib.error.HTTPError) as missing:
                urllib.request.urlopen(gateway.url + path, timeout=WAIT)
            assert missing.value.code == 404


def test_lanchat_web_says_where_prints_a_qr_code_and_stops_cleanly(chat):
    port = free_tcp_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "web_gateway", LOOPBACK, "--port", str(chat.port),
         "--group", chat.group, "--group-port", str(chat.group_port), "--interface", LOOPBACK,
         "--http-host", LOOPBACK, "--http-port", str(port)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        out = OutputLines(proc.stdout)
        out.wait_for(lambda line: f"http://{LOOPBACK}:{port}/" in line, "the page's address")
        out.wait_for(lambda line: "Only this computer" in line, "no QR code for loopback")
        out.wait_for(lambda line: f"Allow TCP port {port}" in line, "the firewall hint")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(WAIT) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    bad = subprocess.run(
        [sys.executable, "-m", "web_gateway", "--http-port", "99999"],
        cwd=ROOT, capture_output=True, text=True, timeout=WAIT * 4,
    )  # fmt: skip
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1


def test_our_server_with_web_lets_its_own_gateways_people_past_the_per_host_cap():
    with running_server("--web", f"{LOOPBACK}:0", "--max-sessions-per-host", "1") as server:
        url = server.wait_for_line(r"Phones and browsers join at (\S+)").group(1)

        async def scene() -> None:
            pages = [await Page.open(url) for _ in range(2)]
            for n, page in enumerate(pages):
                await page.login(f"phone{n}")
            for page in pages:
                await page.close()

        run(scene())


def test_a_page_that_cannot_join_a_full_chat_is_told_it_is_full():
    """Issue 37, point 4: our server with --web tells its page how many it lets in; a
    login it refuses because the chat is full reads "The chat is full", not "the name
    may be taken"."""
    with running_server("--web", f"{LOOPBACK}:0", "--max-sessions", "2") as server:
        url = server.wait_for_line(r"Phones and browsers join at (\S+)").group(1)

        async def scene() -> None:
            pages = [await Page.open(url) for _ in range(3)]
            for n, page in enumerate(pages[:2]):
                await page.login(f"phone{n}")
            await pages[2].send(t="login", name="late")
            await pages[2].wait_for(kind("error", reason="no-welcome"), "given up", 10)
            assert pages[2].frames[-1]["text"].startswith("The chat is full (2 in it, "), pages[
                2
            ].frames[-1]
            for page in pages:
                await page.close()

        run(scene())


def test_a_forged_bye_from_another_host_changes_nothing_and_is_logged(chat):
    with gateway_for(chat.addr, chat.group, chat.group_port) as gateway:

        async def scene() -> None:
            alice = await Page.open(gateway.url)
            await alice.login("alice")
            forger = GroupSender(chat.group, chat.group_port, source="127.0.0.2")
            forger.send(b"bye,alice")
            forger.send(b"msg,alice: I quit")  # words put in her mouth
            forger.close()
            await alice.send(t="say", text="still here")
            seen = await alice.wait_for(kind("mark", status="delivered"), "her own line relayed")
            assert not [f for f in seen if f["t"] in ("left", "line", "state")], seen
            await alice.close()

        run(scene())
        assert gateway.gateway.limit_log.bitten["not-server"] == 2


def test_lines_typed_faster_than_the_servers_limit_wait_and_all_arrive(chat):
    """The window's pacing holds on the page: 15 lines pasted at once (our server takes a
    burst of 10, then 5 a second) are sent at the pace, marked queued meanwhile, and every
    one is relayed."""
    with gateway_for(chat.addr, chat.group, chat.group_port) as gateway:

        async def scene() -> None:
            alice = await Page.open(gateway.url)
            await alice.login("alice")
            await alice.send(t="say", text="\n".join(f"line {n}" for n in range(15)))
            delivered: set[int] = set()
            statuses = []

            def count(frame) -> bool:  # type: ignore[no-untyped-def]
                if frame["t"] == "mine":
                    statuses.append(frame["status"])
                if frame["t"] == "mark" and frame["status"] == "delivered":
                    delivered.update(frame["ids"])
                return len(delivered) == 15

            await alice.wait_for(count, "15 lines relayed", 10)
            assert "queued" in statuses and "failed" not in statuses
            await alice.close()

        run(scene())  # all 15 relayed: the server refused none


def test_a_lan_address_is_printed_with_a_qr_code_phones_can_read():
    import io

    from web_gateway.runner import say_where

    out = io.StringIO()
    say_where(["http://10.0.0.5:8421/"], out=out)
    lines = out.getvalue().splitlines()
    assert "http://10.0.0.5:8421/" in lines[1]
    code = [line for line in lines[2:] if line.strip()]
    assert len(code) > 10 and all("█" in line or "▀" in line for line in code[:3])


def test_a_style_one_person_learns_names_senders_for_everyone_already_in(chat):
    """Without --relay: a page that only reads gets senders named once anyone's echo has
    shown the server attributes (not only the people who join after)."""
    with gateway_for(chat.addr, chat.group, chat.group_port, relay="unknown") as gateway:

        async def scene() -> None:
            reader, bob = await Page.open(gateway.url), await Page.open(gateway.url)
            await reader.login("reader")
            await bob.login("bob")
            await bob.send(t="say", text="first")  # bob's echo: an attributed relay
            await bob.wait_for(kind("mark", status="delivered"), "bob's echo")
            await reader.wait_for(kind("line", sender=None, text="bob: first"), "unnamed")
            await bob.send(t="say", text="second")
            await reader.wait_for(kind("line", sender="bob", text="second"), "named")
            for page in (reader, bob):
                await page.close()

        run(scene())


def test_names_taken_look_alikes_a_reopened_tab_and_a_server_that_is_not_there(chat):
    with gateway_for(chat.addr, chat.group, chat.group_port) as gateway:

        async def scene() -> None:
            alice = await Page.open(gateway.url)
            await alice.login("alice", device="her-browser")
            other = await Page.open(gateway.url)
            await other.send(t="login", name="ALICE")  # the server sees one name: said at once
            await other.wait_for(kind("error", reason="name-taken"), "taken, at once", 1.0)
            assert "(as alice)" in other.frames[-1]["text"]
            await alice.close()  # the tab is closed ...
            stranger = await Page.open(gateway.url)  # another browser, the same address
            await stranger.send(t="login", name="alice", device="a-shared-pc")
            await stranger.wait_for(kind("error", reason="name-taken"), "not hers to take")
            again = await Page.open(gateway.url)  # ... and opened again, in her browser
            await again.send(t="login", name="alice", device="her-browser")
            await again.wait_for(lambda f: f["t"] == "state" and f["state"] == "in chat", "in")
            assert len(gateway.gateway.users) == 1  # her session, taken up
            for page in (other, stranger, again):
                await page.close()

        run(scene())
    port = free_udp_port()  # nothing listens there

    with gateway_for((LOOPBACK, port), chat.group, chat.group_port) as gateway:

        async def alone() -> None:
            page = await Page.open(gateway.url)
            await page.send(t="login", name="alice")
            await page.wait_for(kind("error", reason="no-welcome"), "the login given up", 8)
            assert page.frames[-1]["text"].startswith("The chat is not running")
            await page.close()

        run(alone())


def test_no_page_takes_a_name_in_use_by_saying_it_was_there_before(chat):
    """Issue 37, point 1: the page sends ``again: true`` on every reconnect, and the gateway
    skipped its name check for it; the server let "the same host" (the gateway) take the
    name over: any page threw alice out and spoke as her.  Now only her own session (its
    resume token, her browser's id) takes her name up."""
    with gateway_for(chat.addr, chat.group, chat.group_port) as gateway:

        async def scene() -> None:
            alice = await Page.open(gateway.url)
            await alice.login("alice", device="her-browser")
            mallory = await Page.open(gateway.url)
            await mallory.send(t="login", name="alice", again=True, device="mallorys")
            await mallory.wait_for(kind("error", reason="name-taken"), "refused", 2.0)
            await mallory.send(t="login", name="alice", again=True, resume="a-guess")
            await mallory.wait_for(kind("error", reason="name-taken"), "refused again", 2.0)
            await alice.send(t="say", text="still me")
            await alice.wait_for(kind("mark", status="delivered"), "alice still speaks")
            assert not [f for f in alice.frames if f.get("reason") == "taken-over"]
            for page in (alice, mallory):
                await page.close()

        run(scene())
    assert not [line for line in chat.history if "login request has arrived from alice" in line][1:]


def test_a_line_sent_again_under_its_number_is_said_once_and_pings_are_answered(chat):
    """Issue 36, point 7: a page that found its connection dead sends its kept lines again
    on the new one, under the numbers they had; what the dead connection delivered late
    is not said twice.  A ping is answered, logged in or not."""
    with gateway_for(chat.addr, chat.group, chat.group_port) as gateway:

        async def scene() -> None:
            page = await Page.open(gateway.url)
            await page.send(t="ping")
            await page.wait_for(kind("pong"), "a pong before the login")
            await page.login("jonas")
            for _ in range(2):
                await page.send(t="say", text="is it 3/4?", ref=1000)
                await page.wait_for(kind("took", ref=1000), "took")
            await page.send(t="say", text="and 5/8?", ref=1001)
            await page.wait_for(kind("took", ref=1001), "took the next")
            await page.wait_for(kind("mark", status="delivered"), "delivered")
            mine = [f["text"] for f in page.frames if f["t"] == "mine"]
            assert mine.count("is it 3/4?") == 1 and "and 5/8?" in mine
            await page.close()

        run(scene())
    chat.wait_for_line(r'msg "and 5/8\?" has arrived')
    assert len([line for line in chat.history if '"is it 3/4?"' in line]) == 1


def test_lines_the_pace_cannot_take_go_back_to_the_page(chat):
    with gateway_for(chat.addr, chat.group, chat.group_port, queued_lines=5) as gateway:

        async def scene() -> None:
            alice = await Page.open(gateway.url)
            await alice.login("alice")
            lines = [f"line {n}" for n in range(40)]
            lines[1] = "a bell\x07in it"  # refused by the core: it comes back too, said why
            await alice.send(t="say", text="\n".join(lines))
            await alice.wait_for(kind("error", reason="not-sent"), "the refusal")
            refusal = alice.frames[-1]
            back = refusal["unsent"].split("\n")
            sent = [f["text"] for f in alice.frames if f["t"] == "mine"]
            assert sorted(sent + back) == sorted(lines)  # each line on its way or back, once
            assert back[0] == lines[1] and "control character" in refusal["text"]
            await alice.close()

        run(scene())


def test_our_server_asked_for_a_page_it_cannot_serve_says_so_and_exits():
    import socket

    with socket.socket() as taken:
        taken.bind((LOOPBACK, 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "server_app", "--host", LOOPBACK, "--port", "0",
             "--interface", LOOPBACK, "--web", f"{LOOPBACK}:{port}"],
            cwd=ROOT, capture_output=True, text=True, timeout=WAIT * 4,
        )  # fmt: skip
    assert done.returncode == 1
    assert f"cannot serve the page on {LOOPBACK}:{port}" in done.stderr
