"""Sites federated over a real nats-server on 127.0.0.1: real servers, real groups, real faults.

Each site is our server as a subprocess with its own port and multicast group
(all on loopback); clients are plain UDP sockets speaking the assignment's
protocol, so what is checked is what any client of the spec would see.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from tests.helpers_nats import FAILOVER_WAIT, NatsServer, Site, free_tcp_port
from tests.helpers_net import ROOT, WAIT, fresh_python, read_until

SiteFactory = Callable[..., Site]


@pytest.fixture
def broker(tmp_path) -> Iterator[NatsServer]:
    server = NatsServer(tmp_path).start()
    yield server
    server.kill()


@pytest.fixture
def make_site() -> Iterator[SiteFactory]:
    sites: list[Site] = []

    def make(
        name: str, *urls: str, connected: bool = True, connect_wait: float = WAIT, **kwargs
    ) -> Site:
        site = Site(name, *urls, **kwargs)
        sites.append(site)
        return site.start(connected, connect_wait)

    yield make
    for site in sites:
        site.close()


def test_two_sites_chat_as_one(broker, make_site):
    a, b = make_site("labA", broker.url), make_site("labB", broker.url)
    alice = a.login("alice")
    b.expect(b"welcome,alice")
    bob = b.login("bob")
    a.expect(b"welcome,bob")
    alice.send(b"msg,hello from A")
    a.expect(b"msg,alice: hello from A")
    b.expect(b"msg,alice: hello from A")
    bob.send(b"msg,hi from B")
    a.expect(b"msg,bob: hi from B")
    bob.send(b"list,")
    b.expect(b"list,bob,alice")  # this site's users, then the other site's
    alice.send(b"exit,")
    a.expect(b"bye,alice")
    b.expect(b"bye,alice")
    assert a.drain() == [] and b.drain() == []  # nothing twice, nothing echoed back


def test_three_sites_each_line_reaches_every_other_site_once_in_order(broker, make_site):
    sites = [make_site(name, broker.url) for name in ("labA", "labB", "labC")]
    users = []
    for i, here in enumerate(sites):
        users.append(here.login(f"user{i}"))
        for there in sites:
            if there is not here:
                there.expect(f"welcome,user{i}".encode())
    for round_ in range(5):
        for i, user in enumerate(users):
            user.send(f"msg,round {round_} from {i}".encode())
    for site in sites:
        got = [d for d in site.drain(1.0) if d.startswith(b"msg,")]
        for i in range(3):
            mine = [d for d in got if d.startswith(f"msg,user{i}:".encode())]
            assert mine == [f"msg,user{i}: round {r} from {i}".encode() for r in range(5)]
    # one consumer per site, not one per other site: the broker's work grows with the sites,
    # each site's does not
    assert sorted(broker.consumers("LANCHAT_EVENTS")) == [
        "4_labA_sites",
        "4_labB_sites",
        "4_labC_sites",
    ]


def test_the_same_name_at_two_sites_at_once_is_welcomed_exactly_once(broker, make_site):
    a, b = make_site("labA", broker.url), make_site("labB", broker.url)
    names = [f"zoe{i}" for i in range(5)]
    for name in names:
        at_a, at_b = a.client(), b.client()
        start = threading.Barrier(2)

        def login(client, name=name, start=start):
            start.wait()
            client.send(f"login,{name}".encode())

        threads = [threading.Thread(target=login, args=(c,)) for c in (at_a, at_b)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    seen_a, seen_b = a.drain(1.0), b.drain(1.0)
    for name in names:
        welcome = f"welcome,{name}".encode()
        assert seen_a.count(welcome) == 1, (name, seen_a)
        assert seen_b.count(welcome) == 1, (name, seen_b)
    # Each site logs, for each name, either its login or its refusal: one of each in all.
    outcomes = [
        site.log_line(r"(login request has arrived from |name-taken \(')zoe\d").group(1)
        for site in (a, b)
        for _ in names
    ]
    assert outcomes.count("login request has arrived from ") == len(names), outcomes


def test_a_name_in_use_at_another_site_is_refused_and_free_again_after_exit(broker, make_site):
    a, b = make_site("labA", broker.url), make_site("labB", broker.url)
    alice = a.login("alice")
    b.expect(b"welcome,alice")
    impostor = b.client()
    impostor.send(b"login,ALICE")
    b.log_line(r"name-taken \('ALICE' is in the chat at site labA\)")
    alice.send(b"exit,")
    b.expect(b"bye,alice")
    impostor.send(b"login,ALICE")
    b.expect(b"welcome,ALICE")
    a.expect(b"welcome,ALICE")


def test_a_killed_site_s_users_leave_everywhere_after_the_timeout(broker, make_site):
    a = make_site("labA", broker.url, timeout=2.0)
    b = make_site("labB", broker.url, timeout=2.0)
    b.login("bob")
    a.expect(b"welcome,bob")
    b.server.kill()  # no farewell: a crash, a pulled cable
    a.expect(b"bye,bob", timeout=2.0 + WAIT)
    a.log_line(r"site labB silent for 2 s: its 1 user\(s\) left")
    # ... and the name is free for anyone again.
    a.login("bob")


def test_a_stopped_site_says_bye_everywhere_at_once(broker, make_site):
    a, b = make_site("labA", broker.url), make_site("labB", broker.url)
    b.login("bob")
    a.expect(b"welcome,bob")
    assert b.server.stop(signal.SIGTERM) == 0
    a.expect(b"bye,bob")  # within WAIT, not after the 15 s timeout
    a.login("bob")


def test_the_broker_killed_and_restarted_mid_chat_loses_and_doubles_nothing(broker, make_site):
    a, b = make_site("labA", broker.url), make_site("labB", broker.url)
    alice = a.login("alice")
    b.expect(b"welcome,alice")
    bob = b.login("bob")
    a.expect(b"welcome,bob")
    alice.send(b"msg,before")
    b.expect(b"msg,alice: before")

    broker.kill()
    a.log_line(r"cut off from the federation: serving this LAN alone")
    b.log_line(r"cut off from the federation")
    sent = [f"msg,alice: while cut off {i}".encode() for i in range(6)]  # within the burst
    for i in range(6):
        alice.send(f"msg,while cut off {i}".encode())
    a.expect(sent[-1])  # each LAN goes on alone
    bob.send(b"msg,B alone")
    b.expect(b"msg,bob: B alone")

    broker.start()
    a.wait_connected(FAILOVER_WAIT)
    b.wait_connected(FAILOVER_WAIT)
    got = read_until(b.listener.recv, lambda d: d == sent[-1], "catch-up", FAILOVER_WAIT)
    got.append(sent[-1])
    assert [d for d in got if d.startswith(b"msg,alice:")] == sent
    a.expect(b"msg,bob: B alone", FAILOVER_WAIT)
    alice.send(b"msg,after")
    b.expect(b"msg,alice: after")
    a.expect(b"msg,alice: after")
    later_b, later_a = b.drain(1.0), a.drain(1.0)
    assert not any(d.startswith(b"msg,") for d in later_b + later_a), (later_a, later_b)
    assert b"bye,alice" not in later_b and b"bye,bob" not in later_a


def test_a_broker_that_lost_its_store_is_rejoined_and_the_chat_goes_on(broker, make_site):
    a, b = make_site("labA", broker.url), make_site("labB", broker.url)
    alice = a.login("alice")
    b.expect(b"welcome,alice")
    for i in range(5):  # the old stream gets ahead of the new one
        alice.send(f"msg,old {i}".encode())
    b.expect(b"msg,alice: old 4")
    broker.kill()
    b.log_line(r"cut off from the federation")
    broker.args[broker.args.index("-sd") + 1] += "-wiped"  # the same broker, an empty store
    broker.start()
    a.log_line(r"the broker lost its stream", FAILOVER_WAIT)
    b.log_line(r"the broker lost its stream", FAILOVER_WAIT)
    b.wait_connected(FAILOVER_WAIT)
    alice.send(b"msg,after the wipe")
    b.expect(b"msg,alice: after the wipe", FAILOVER_WAIT)
    bob = b.login("bob")
    a.expect(b"welcome,bob", FAILOVER_WAIT)
    bob.send(b"msg,hi alice")
    a.expect(b"msg,bob: hi alice", FAILOVER_WAIT)


def test_a_site_whose_consumer_is_deleted_at_the_broker_reads_on_from_where_it_was(
    broker, make_site
):
    """An operator's cleanup (or a broker that lost it) takes labB's one consumer away while
    its pull request waits: labB makes it again and reads on, nothing lost or doubled."""
    import asyncio

    import nats

    a, b = make_site("labA", broker.url), make_site("labB", broker.url)
    alice = a.login("alice")
    b.expect(b"welcome,alice")
    alice.send(b"msg,before")
    b.expect(b"msg,alice: before")
    [durable] = [c for c in broker.consumers("LANCHAT_EVENTS") if c.startswith("4_labB_")]

    async def delete() -> None:
        nc = await nats.connect(broker.url)
        try:
            await nc.jetstream().delete_consumer("LANCHAT_EVENTS", durable)
        finally:
            await nc.close()

    asyncio.run(delete())
    alice.send(b"msg,after")
    b.expect(b"msg,alice: after", FAILOVER_WAIT)
    assert durable in broker.consumers("LANCHAT_EVENTS")
    later = b.drain(1.0)
    assert not any(d.startswith(b"msg,") or d.startswith(b"welcome,") for d in later), later


def test_who_came_and_went_while_the_broker_was_away_is_reconciled(broker, make_site):
    a, b = make_site("labA", broker.url), make_site("labB", broker.url)
    b.login("bob")
    a.expect(b"welcome,bob")
    carol = b.login("carol")
    a.expect(b"welcome,carol")
    broker.kill()
    b.log_line(r"cut off from the federation")
    carol.send(b"exit,")  # leaves while the sites cannot talk
    b.expect(b"bye,carol")
    dave = a.login("dave")  # decided by labA alone
    broker.start()
    a.expect(b"bye,carol", FAILOVER_WAIT)
    b.expect(b"welcome,dave", FAILOVER_WAIT)
    dave.send(b"list,")
    a.expect(b"list,dave,bob")
    assert a.drain(1.0).count(b"bye,carol") == 0 and b.drain(1.0).count(b"welcome,dave") == 0


def test_broker_credentials_are_passed_through(tmp_path, make_site):
    broker = NatsServer(tmp_path)
    broker.args += ["--user", "lab", "--pass", "s3cret"]
    broker.start()
    try:
        right = ("--federation-user", "lab", "--federation-password", "s3cret")
        make_site("labA", broker.url, extra=right)
        bad = ("--federation-user", "lab", "--federation-password", "nope")
        wrong = make_site("labB", broker.url, connected=False, extra=bad)
        wrong.log_line(r"federation: cannot reach .*[Aa]uthorization")
    finally:
        broker.kill()


def _broker_of_sites(tmp_path) -> NatsServer:
    """A nats-server run from docs/nats-sites.conf (what the README tells an operator to
    run), its address overridden by the flags and its store put in ``tmp_path``."""
    broker = NatsServer(tmp_path)
    text = (ROOT / "docs" / "nats-sites.conf").read_text()
    assert "store_dir: /var/lib/nats" in text
    config = tmp_path / "nats-sites.conf"
    config.write_text(text.replace("/var/lib/nats", str(broker.store)))
    at = broker.args.index("-sd")
    del broker.args[at : at + 2]  # the file names the store (both: "Duplicate 'store_dir'")
    broker.args += ["-c", str(config)]
    return broker.start()


def test_with_a_user_per_site_no_site_can_speak_as_another(tmp_path, make_site):
    """Issue 37, point 7: the README's broker gives each site a user that may publish only
    under its own name. The sites chat through it; a process with labA's password cannot
    publish on labB's subject (the broker refuses it), and what it puts on labA's subject
    in labB's name is set aside by labC's reader and logged: bob never leaves anywhere."""
    import asyncio

    broker = _broker_of_sites(tmp_path)
    try:
        password = tmp_path / "labB.password"
        password.write_text("change me: labB\n")
        c = make_site(
            "labC",
            broker.url,
            extra=("--federation-user", "labC", "--federation-password", "change me: labC"),
        )
        b = make_site(
            "labB",
            broker.url,
            extra=("--federation-user", "labB", "--federation-password-file", str(password)),
        )
        bob = b.login("bob")
        c.expect(b"welcome,bob")
        from protocol_lib.federation import EventKind, SiteEvent, encode_events

        forged = encode_events(
            [  # a bye of bob's and a line in his name, "from labB"
                SiteEvent("labB", 1, 1, EventKind.BYE, "bob"),
                SiteEvent("labB", 1, 2, EventKind.MSG, "bob", "I quit"),
            ]
        )

        async def impostor() -> list[str]:
            import nats

            errors: list[str] = []

            async def said(exc: Exception) -> None:
                errors.append(str(exc))

            nc = await nats.connect(
                broker.url, user="labA", password="change me: labA", error_cb=said,
                inbox_prefix="_INBOX_labA",
            )  # fmt: skip
            await nc.publish("lanchat.events.labB", forged)  # refused by the broker
            await nc.publish("lanchat.heartbeat.labB", b"2")
            await nc.publish("$JS.API.STREAM.UPDATE.LANCHAT_EVENTS", b"{}")  # refused
            await nc.subscribe("_INBOX_labB.>")  # labB's replies: refused
            await nc.jetstream().publish("lanchat.events.labA", forged)  # labB's words
            await nc.flush()
            await nc.close()
            return errors

        errors = [e.lower() for e in asyncio.run(impostor())]
        for refused in ("events.labb", "stream.update", "_inbox_labb"):
            assert any("permissions violation" in e and refused in e for e in errors), errors
        assert any(
            "permissions violation" in e.lower() and "events.labb" in e.lower() for e in errors
        )
        c.log_line(r"federation: an event on lanchat\.events\.labA ignored: .*another site")
        bob.send(b"msg,still here")
        c.expect(b"msg,bob: still here")
        assert not [d for d in c.drain() + b.drain() if b"bye,bob" in d or b"I quit" in d]
    finally:
        broker.kill()


def test_a_second_server_under_a_live_sites_name_stays_out(broker, make_site):
    """Issue 37, point 7: a second labA (a mistake, or a student) would make the other
    sites take it for labA restarted and drop labA's people. It asks first, is answered
    by the live labA, says so and serves its own LAN alone; nobody leaves anywhere."""
    a, b = make_site("labA", broker.url), make_site("labB", broker.url)
    alice = a.login("alice")
    b.expect(b"welcome,alice")
    twin = make_site("labA", broker.url, connected=False)
    twin.log_line(r"federation: a site named labA is live at the broker .*stays out")
    # and lets go of the broker (left open, a reconnect would link it up unasked)
    deadline = time.monotonic() + WAIT
    while broker.clients().count("lanchat-labA") != 1:  # the broker's own count, polled
        assert time.monotonic() < deadline, broker.clients()
        time.sleep(0.1)
    carol = twin.login("carol")  # its own LAN still has a chat
    carol.send(b"msg,only here")
    twin.expect(b"msg,carol: only here")
    alice.send(b"msg,still here")
    b.expect(b"msg,alice: still here")
    assert not [d for d in a.drain() + b.drain() if b"carol" in d or b"bye,alice" in d]


def test_tls_to_the_broker_is_passed_through(tmp_path, make_site):
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
         "-out", str(cert), "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-days", "1"],
        check=True, capture_output=True,
    )  # fmt: skip
    broker = NatsServer(tmp_path)
    broker.args += ["--tls", "--tlscert", str(cert), "--tlskey", str(key)]
    broker.start()
    try:
        url, trust = broker.url.replace("nats://", "tls://"), ("--federation-tls-ca", str(cert))
        a = make_site("labA", url, extra=trust)
        b = make_site("labB", url, extra=trust)
        alice = a.login("alice")
        b.expect(b"welcome,alice")
        alice.send(b"msg,over TLS")
        b.expect(b"msg,alice: over TLS")
        untrusting = make_site("labC", url, connected=False)  # no CA: the certificate is refused
        untrusting.log_line(r"federation: cannot reach .*(CERTIFICATE|certificate|SSL)")
    finally:
        broker.kill()


def test_a_site_started_while_the_broker_is_away_serves_its_lan_and_joins_later(
    tmp_path, make_site
):
    broker = NatsServer(tmp_path)  # not started yet
    a = make_site("labA", broker.url, connected=False)
    a.server.wait_for_line(r"cannot reach .*serving this LAN alone")
    alice = a.login("alice")
    try:
        broker.start()
        a.wait_connected(FAILOVER_WAIT)
        b = make_site("labB", broker.url)
        bob = b.login("bob")
        a.expect(b"welcome,bob")
        alice.send(b"list,")
        a.expect(b"list,alice,bob")
        bob.send(b"list,")
        b.expect(b"list,bob,alice")
    finally:
        broker.kill()


def test_a_three_node_cluster_survives_losing_the_node_a_site_is_connected_to(tmp_path, make_site):
    cluster_ports = [free_tcp_port() for _ in range(3)]
    nodes = [
        NatsServer(tmp_path, f"n{i}", cluster_ports[i], tuple(cluster_ports)) for i in range(3)
    ]
    try:
        for node in nodes:
            node.start()
        for node in nodes:
            node.wait_for_metadata_leader()
        urls = [node.url for node in nodes]
        extra = ("--federation-replicas", "3")
        # The first site creates the stream and the bucket with 3 replicas each: a fresh
        # cluster places them and elects their leaders, which a busy machine took over 5 s.
        a = make_site("labA", *urls, extra=extra, connect_wait=FAILOVER_WAIT)
        b = make_site("labB", *urls, extra=extra, connect_wait=FAILOVER_WAIT)
        alice = a.login("alice")
        b.expect(b"welcome,alice", FAILOVER_WAIT)
        alice.send(b"msg,before")
        b.expect(b"msg,alice: before")

        [node_of_a] = [n for n in nodes if "lanchat-labA" in n.clients()]
        node_of_a.kill()
        alice.send(b"msg,after the node died")
        b.expect(b"msg,alice: after the node died", FAILOVER_WAIT)
        bob = b.login("bob")
        a.expect(b"welcome,bob", FAILOVER_WAIT)
        bob.send(b"msg,still one chat")
        a.expect(b"msg,bob: still one chat", FAILOVER_WAIT)
        assert b.drain(1.0).count(b"msg,alice: after the node died") == 0
    finally:
        for node in nodes:
            node.kill()


# --- the command line ---------------------------------------------------------------


def run_server(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "server_app", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=WAIT * 2,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["--federation", "nats://127.0.0.1:4222"], "--federation needs --site"),
        (["--site", "labA"], "--site needs --federation"),
        (["--federation", "http://x:1", "--site", "a"], "is not a nats:// or tls:// URL"),
        (["--federation", "nats://127.0.0.1:1", "--site", "lab A"], "a site name is 1 to 32"),
        (
            ["--federation", "nats://127.0.0.1:1", "--site", "a", "--federation-tls-ca", "/nope"],
            "cannot read '/nope'",
        ),
        (
            [
                "--federation",
                "nats://127.0.0.1:1",
                "--site",
                "a",
                "--federation-password-file",
                "/nope",
            ],
            "cannot read '/nope'",
        ),
        (
            [
                "--federation",
                "nats://127.0.0.1:1",
                "--site",
                "a",
                "--federation-token-file",
                "/dev/null",
            ],
            "'/dev/null': its first line is empty",
        ),
        (
            [
                "--federation",
                "nats://127.0.0.1:1",
                "--site",
                "a",
                "--federation-password",
                "x",
                "--federation-password-file",
                "pyproject.toml",
            ],
            "--federation-password and --federation-password-file: give one",
        ),
    ],
)
def test_bad_federation_options_say_what_to_fix(args, complaint):
    result = run_server(*args)
    assert result.returncode == 2
    assert complaint in result.stderr


def test_a_server_without_federation_never_imports_the_nats_client():
    code = (
        "import sys, server_app.server as s, server_app.cli as c\n"
        "o = c.parse_options(['--host', '127.0.0.1', '--port', '0'])\n"
        "assert o.federation is None\n"
        "assert not any(m == 'nats' or m.startswith('nats.') for m in sys.modules), 'nats'\n"
    )
    result = fresh_python(code, timeout=WAIT * 2)
    assert result.returncode == 0, result.stderr
