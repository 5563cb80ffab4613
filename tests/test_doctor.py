"""Why nobody can be heard (issue 26, point 4): each diagnosis from facts alone, then each
one reproduced between network namespaces and named by ``lanchat-client --doctor``."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from protocol_lib.doctor import Findings, diagnose, firewall_remedy
from tests.helpers_net import ROOT, WAIT
from tests.netns import Lan, mdns_env, start_server, unavailable_reason
from tests.test_netns import Process

LAN = (("127.0.0.1", 8), ("10.0.0.7", 24))


def keys(findings: Findings, platform: str = "linux") -> list[str]:
    return [d.key for d in diagnose(findings, platform)]


def facts(**changes) -> Findings:
    return Findings("10.0.0.5", 4321, "224.1.1.1", 2241, **{"addresses": LAN, **changes})


@pytest.mark.portable
def test_each_cause_from_its_facts():
    assert keys(facts(heard_group=True)) == ["fine"]
    assert keys(facts(refused=True)) == ["refused"]
    assert keys(facts(addresses=(("127.0.0.1", 8),))) == ["no-lan"]
    assert keys(facts(announced=True)) == ["group-blocked"]
    assert keys(facts(other_sources=("10.0.0.9",))) == ["source"]
    assert keys(facts(route_to_server="10.0.0.7", route_to_group="10.8.0.2")) == ["route"]
    assert keys(Findings("10.9.0.5", 4321, "224.1.1.1", 2241, addresses=LAN)) == ["subnet"]
    # Told the interface: the route is the user's choice, not a cause.
    told = facts(heard_group=True, interface="10.0.0.7", route_to_server="10.0.0.7",
                 route_to_group="10.8.0.2")  # fmt: skip
    assert keys(told) == ["fine"]


@pytest.mark.portable
@pytest.mark.parametrize(("platform", "words"), [
    ("win32", "New-NetFirewallRule"), ("darwin", "System Settings"),
    ("linux", "ufw allow 2241/udp"),
])  # fmt: skip
def test_the_firewall_remedy_is_for_this_os(platform, words):
    assert words in firewall_remedy(2241, platform)
    (blocked,) = diagnose(facts(announced=True), platform)
    assert words in blocked.paragraph()


# --- reproduced between hosts ----------------------------------------------------------

REASON = unavailable_reason()
netns = pytest.mark.skipif(REASON is not None, reason=f"cross-host test: {REASON}")
GROUP, GROUP_PORT, PORT = "239.255.42.9", 2241, 4321


@pytest.fixture
def lan():
    net = Lan(["server", "student"])
    yield net
    net.close()


def _server(lan: Lan, interface: str | None = None) -> Process:
    return start_server(lan, GROUP, GROUP_PORT, PORT, interface=interface)


def _doctor(
    lan: Lan, host: str = "student", group: tuple[str, ...] | None = None
) -> tuple[list[str], str]:
    """``--doctor`` on ``host`` for the server's chat (``group``: other group options)."""
    options = ("--group", GROUP, "--group-port", str(GROUP_PORT)) if group is None else group
    out = subprocess.run(
        ["ip", "netns", "exec", lan.namespaces[host], sys.executable, "-m", "qml_client",
         lan.addresses["server"], "--port", str(PORT), *options, "--doctor"],
        cwd=ROOT, env=mdns_env(), capture_output=True, text=True, timeout=WAIT + 5,
    )  # fmt: skip
    said = " ".join((out.stdout + out.stderr).split())  # its paragraphs are wrapped
    return re.findall(r"^  \[([a-z-]+)\]$", out.stdout, re.MULTILINE), said


@netns
def test_a_healthy_chat_is_fine(lan):
    server = _server(lan)
    try:
        found, said = _doctor(lan)
        assert found == ["fine"], said
        server.expect("exit request has arrived from user: doctor-")  # it left again
    finally:
        server.stop()


@netns
def test_no_server_is_nothing_listening(lan):
    found, said = _doctor(lan)
    assert found == ["refused"], said
    assert f"Nothing listens at {lan.addresses['server']}:{PORT}" in said


@netns
def test_the_group_port_dropped_by_a_firewall(lan):
    lan.run_in("student", "nft", "add table inet doctor; add chain inet doctor input "
               "{ type filter hook input priority 0; }; add rule inet doctor input udp dport "
               f"{GROUP_PORT} drop")  # fmt: skip
    server = _server(lan)
    try:
        found, said = _doctor(lan)
        assert found == ["group-blocked"], said
        assert "it announces itself" in said and f"ufw allow {GROUP_PORT}/udp" in said
    finally:
        server.stop()


@netns
def test_a_server_beyond_a_router_with_ttl_1(lan):
    lan.add_routed_host("far")
    server = _server(lan)
    try:
        found, said = _doctor(lan, "far")
        assert found == ["subnet"], said
        server.expect("login request has arrived from doctor-")  # unicast was routed
    finally:
        server.stop()


@netns
def test_group_datagrams_from_a_second_address_of_the_server(lan):
    lan.run_in("server", "ip", "addr", "add", "10.200.0.101/24", "dev", "eth0")
    server = _server(lan, interface="10.200.0.101")  # it multicasts from its second address
    try:
        found, said = _doctor(lan)
        assert found == ["source"], said
        assert "--server-source 10.200.0.101" in said
    finally:
        server.stop()


@netns
def test_multicast_routed_through_another_interface(lan):
    # A "VPN": a link of its own (a veth pair whose far end goes nowhere), its address,
    # and the multicast route through it.
    lan.run_in("student", "ip", "link", "add", "vpn0", "type", "veth", "peer", "name", "vpn1")
    lan.run_in("student", "ip", "addr", "add", "10.99.0.2/24", "dev", "vpn0")
    lan.run_in("student", "ip", "link", "set", "vpn0", "up")
    lan.run_in("student", "ip", "link", "set", "vpn1", "up")
    lan.run_in("student", "ip", "route", "replace", "224.0.0.0/4", "dev", "vpn0")
    server = _server(lan)
    try:
        found, said = _doctor(lan)
        assert found[0] == "route", said
        assert f"--interface {lan.addresses['student']}" in said
    finally:
        server.stop()


def test_a_loopback_server_with_multicast_leaving_by_the_lan_is_the_route_case():
    """The trial: server on 127.0.0.1, client without --interface: multicast goes out of
    eth0 by the default route; the doctor said "a firewall" where --interface is the fix."""
    found = diagnose(Findings("127.0.0.1", 4321, "239.255.77.1", 2241, addresses=LAN,
                              route_to_server="127.0.0.1", route_to_group="10.0.0.7"),
                     "linux")  # fmt: skip
    assert [d.key for d in found] == ["route"]
    assert "--interface 127.0.0.1" in found[0].paragraph()


def test_a_group_that_is_not_the_servers_is_named_from_its_record():
    found = diagnose(facts(announced=True, announced_group=("239.255.42.1", 5000)), "linux")
    assert [d.key for d in found] == ["group"]
    assert "--group 239.255.42.1 --group-port 5000" in found[0].paragraph()
    (blocked,) = diagnose(facts(), "linux")  # no record: the check is among the remedies
    assert "is the server's group" in blocked.paragraph()


@netns
def test_the_wrong_group_is_named_from_the_servers_record(lan):
    server = _server(lan)
    try:
        found, said = _doctor(lan, group=())  # the spec's default group: not the server's
        assert found == ["group"], said
        assert f"--group {GROUP} --group-port {GROUP_PORT}" in said
    finally:
        server.stop()


@netns
def test_a_full_chat_is_said_to_be_full_not_fine(lan):
    """Issue 37, point 4: a login into a full chat gets no welcome, like a dead server's;
    the server's record says how many it lets in (TXT ``max``), so --find shows it full
    and the doctor says so (it said "No problem found": the chat answers and is heard)."""
    server = start_server(lan, GROUP, GROUP_PORT, PORT, "--max-sessions", "1")
    try:
        lan.run_in("student", sys.executable, "-c", "import socket; socket.socket(2, 2)."
                   f"sendto(b'login,ann', ({lan.addresses['server']!r}, {PORT}))")  # fmt: skip
        server.expect("login request has arrived from ann@")
        found = ""
        for _ in range(5):  # the record is updated within USERS_UPDATE_INTERVAL (2 s)
            found = subprocess.run(
                ["ip", "netns", "exec", lan.namespaces["student"], sys.executable, "-m",
                 "qml_client", "--find", "2"],
                cwd=ROOT, env=mdns_env(), capture_output=True, text=True, timeout=WAIT + 5,
            ).stdout  # fmt: skip
            if "full: 1 in the chat" in found:
                break
        assert "full: 1 in the chat" in found, found
        keys, said = _doctor(lan)
        assert keys == ["full"], said
        assert "The chat is full. 1 person is in it; its server lets in 1 at once." in said
    finally:
        server.stop()


def test_a_login_the_chat_let_in_is_not_told_the_chat_is_full():
    """The review: a record that says full (it lags by up to 2 s, or the probe's own login
    took the last place) must not outvote the welcome the probe got. The probe listens
    past the chat's other lines for its own welcome, and says whether it came."""
    import socket
    import time

    from protocol_lib.io.doctor import _listen

    with (
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as group,
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as asker,
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as server,
    ):
        group.bind(("127.0.0.1", 0))
        asker.bind(("127.0.0.1", 0))
        server.sendto(b"msg,bob: busy chat", group.getsockname())  # the chat, heard first
        server.sendto(b"welcome,doctor-1", group.getsockname())
        found = _listen(asker, group, frozenset({"127.0.0.1"}), time.monotonic() + 2.0,
                        b"welcome,doctor-1")  # fmt: skip
        assert found.heard and found.welcomed
        server.sendto(b"msg,bob: still busy", group.getsockname())  # no welcome this time
        started = time.monotonic()
        found = _listen(asker, group, frozenset({"127.0.0.1"}), started + 0.5, b"welcome,x")
        assert found.heard and not found.welcomed and time.monotonic() - started >= 0.45
