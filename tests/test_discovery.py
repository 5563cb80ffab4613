"""Finding a chat without its address (issue 26): the record alone, then real mDNS between
network namespaces on a bridge (nothing leaves them)."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocol_lib.client_events import RelayStyle
from protocol_lib.discovery import SERVICE_TYPE, ChatRecord, read_record
from protocol_lib.io.discovery import served_interfaces
from tests.helpers_net import ROOT, WAIT
from tests.netns import Lan, mdns_env, start_server, unavailable_reason
from tests.test_netns import Process

RECORD = ChatRecord(
    "Ms Rivera's chat", "10.0.0.5", 4321, "224.1.1.1", 2241, RelayStyle.ATTRIBUTED, 3
)


def test_a_record_reads_back_as_it_was_announced():
    properties = {k.encode(): v.encode() for k, v in RECORD.txt().items()}
    assert read_record(["10.0.0.5"], 4321, properties) == (RECORD, "")
    assert set(RECORD.txt()) >= {"v", "group", "group-port", "name", "relay", "users"}
    assert RECORD.instance_name() == f"Ms Rivera's chat (10.0.0.5:4321).{SERVICE_TYPE}"


def test_a_web_gateway_announced_with_the_chat_gives_the_page_address():
    record = dataclasses.replace(RECORD, web=8421)
    properties = {k.encode(): v.encode() for k, v in record.txt().items()}
    found, _ = read_record(["10.0.0.5"], 4321, properties)
    assert found == record and found.web_url == "http://10.0.0.5:8421/"
    assert RECORD.web_url is None
    for bad in (b"0", b"70000", b"web"):  # a bad port is no gateway, not a bad record
        found, _ = read_record(["10.0.0.5"], 4321, properties | {b"web": bad})
        assert found is not None and found.web is None


def test_a_record_says_when_the_chat_is_full_and_odd_digits_count_for_nothing():
    full = dataclasses.replace(RECORD, users=30, capacity=30)
    properties = {k.encode(): v.encode() for k, v in full.txt().items()}
    assert properties[b"max"] == b"30"
    found, _ = read_record(["10.0.0.5"], 4321, properties)
    assert found == full and found.full and found.people == "full: 30 in the chat"
    assert dataclasses.replace(full, users=29).people == "29 in the chat"
    assert not RECORD.full and RECORD.people == "3 in the chat"  # no max: never "full"
    odd = {b"users": "\u00b2".encode(), b"max": "\u0663".encode(), b"web": "\u00b9".encode()}
    found, why = read_record(["10.0.0.5"], 4321, properties | odd)  # int("²") would raise
    assert why == "" and found is not None
    assert (found.users, found.capacity, found.web) == (None, None, None)


@pytest.mark.parametrize(
    ("addresses", "port", "changes", "why"),
    [
        (["fe80::1"], 4321, {}, "no IPv4 address"),
        (["10.0.0.5"], 0, {}, "no usable port"),
        (["10.0.0.5"], 4321, {b"group": b"10.1.1.1"}, "not a multicast address"),
        (["10.0.0.5"], 4321, {b"group-port": b"many"}, "no usable group"),
        (["10.0.0.5"], 4321, {b"group-port": b"70000"}, "out of range"),
        (["10.0.0.5"], 4321, {b"name": b"\xff"}, "not UTF-8"),
    ],
)
def test_a_bad_record_is_set_aside_with_its_reason(addresses, port, changes, why):
    properties = {k.encode(): v.encode() for k, v in RECORD.txt().items()} | changes
    record, reason = read_record(addresses, port, properties)
    assert record is None and why in reason


@given(
    st.lists(st.text(max_size=20), max_size=3),
    st.one_of(st.none(), st.integers(-5, 70000)),
    st.dictionaries(st.binary(max_size=12), st.one_of(st.none(), st.binary(max_size=30))),
)
def test_any_record_reads_or_says_why_never_raises(addresses, port, properties):
    record, why = read_record(addresses, port, properties)
    assert (record is None) == bool(why)


def test_a_server_is_announced_only_where_it_serves():
    assert served_interfaces("127.0.0.1") == []
    assert served_interfaces("10.0.0.5") == ["10.0.0.5"]
    assert all(not a.startswith("127.") for a in served_interfaces("0.0.0.0"))


# --- across hosts ----------------------------------------------------------------------

REASON = unavailable_reason()
netns = pytest.mark.skipif(REASON is not None, reason=f"cross-host test: {REASON}")
GROUP, GROUP_PORT, PORT = "239.255.42.7", 2241, 4321


@pytest.fixture
def lan():
    net = Lan(["server", "student"])
    yield net
    net.close()


def _server(lan: Lan, *extra: str) -> Process:
    return start_server(lan, GROUP, GROUP_PORT, PORT, *extra)


def _browse(lan: Lan, seconds: float) -> tuple[list[dict], list[dict]]:
    """What a browser on the student's host saw: records as they came, and at the end."""
    out = subprocess.run(
        ["ip", "netns", "exec", lan.namespaces["student"], sys.executable, "-m",
         "tests.peers.browse", lan.addresses["student"], str(seconds)],
        cwd=ROOT, env=mdns_env(), capture_output=True, text=True, timeout=seconds + WAIT,
    )  # fmt: skip
    lines = out.stdout.splitlines()
    assert lines and lines[-1].startswith("END "), out.stdout + out.stderr
    return [json.loads(line) for line in lines[:-1]], json.loads(lines[-1][4:])


@netns
def test_a_server_on_one_host_is_found_from_another_within_two_seconds(lan):
    server = _server(lan, "--title", "Ms Rivera's chat")
    try:
        server.expect("Announced on")
        seen, final = _browse(lan, 3.0)
        assert [r["title"] for r in final] == ["Ms Rivera's chat"]
        record = final[0]
        assert (record["address"], record["port"]) == (lan.addresses["server"], PORT)
        assert (record["group"], record["group_port"]) == (GROUP, GROUP_PORT)
        assert record["relay"] == "attributed" and record["users"] == 0
        assert seen[0]["after"] < 2.0, f"found after {seen[0]['after']:.2f} s"
    finally:
        server.stop()


def _running_browser(lan: Lan, seconds: float) -> Process:
    """A browser on the student's host that prints each record, and each change of its
    ``users``, as it comes (tests.peers.browse), for ``seconds``."""
    return Process(lan.popen("student", [
        sys.executable, "-m", "tests.peers.browse", lan.addresses["student"], str(seconds)],
        cwd=ROOT, env=mdns_env(), text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    ))  # fmt: skip


def _client(
    lan: Lan, host: str, server: str = "server", group: str = GROUP, group_port: int = GROUP_PORT
) -> Process:
    """A plain protocol client (tests.peers.client) on ``host``, for the chat on ``server``'s
    address, once it is ready."""
    process = Process(lan.popen(host, [
        sys.executable, "-m", "tests.peers.client", lan.addresses[server], str(PORT), group,
        str(group_port), lan.addresses[host]], stdin=subprocess.PIPE, cwd=ROOT,
        env=mdns_env(), text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    ))  # fmt: skip
    process.expect("READY")
    return process


@netns
def test_the_chat_stays_findable_with_its_people_counted_as_they_come_and_go(lan):
    """Issue 36, point 1: the record's first update (a login) withdrew it for good, so a
    student who came after the first login found nothing.  Now a browser that was open
    before anyone came sees the count follow the chat, and new searches after each change
    find the chat with its current count; the server's log has no mDNS complaint."""
    server = _server(lan, "--title", "Lab 3")
    running = _running_browser(lan, 40.0)
    people: list[Process] = []
    try:
        server.expect("Announced on")
        running.expect('"users": 0')
        for count, name in enumerate(("alice", "bob"), start=1):
            person = _client(lan, "student")
            people.append(person)
            person.send(f"login,{name}")
            person.expect(f"RECV b'welcome,{name}'")
            running.expect(f'"users": {count}')  # within USERS_UPDATE_INTERVAL and a bit
            _, final = _browse(lan, 2.5)  # a student who arrives now: a new search
            assert [(r["title"], r["users"]) for r in final] == [("Lab 3", count)]
        people[0].send("exit,")
        running.expect('"users": 1')
        _, final = _browse(lan, 2.5)
        assert [(r["title"], r["users"]) for r in final] == [("Lab 3", 1)]
        assert not [line for line in server.output.seen if "mDNS" in line]
    finally:
        for process in (*people, running, server):
            process.stop()


@netns
def test_with_no_advertise_nothing_is_found(lan):
    server = _server(lan, "--no-advertise")
    try:
        _, final = _browse(lan, 2.5)
        assert final == []
    finally:
        server.stop()


@netns
def test_find_in_a_terminal_lists_the_chat_and_the_command_that_joins_it(lan):
    server = _server(lan, "--title", "Lab 3")
    try:
        server.expect("Announced on")
        out = subprocess.run(
            ["ip", "netns", "exec", lan.namespaces["student"], sys.executable, "-m",
             "qml_client", "--find", "3"],
            cwd=ROOT, env=mdns_env(), capture_output=True, text=True, timeout=WAIT + 3,
        )  # fmt: skip
        assert out.returncode == 0, out.stdout + out.stderr
        server_ip = lan.addresses["server"]
        assert f"Lab 3: {server_ip}:{PORT}, group {GROUP}:{GROUP_PORT}" in out.stdout
        assert f"lanchat-client {server_ip} --port {PORT} --group {GROUP}" in out.stdout
    finally:
        server.stop()


@pytest.fixture
def classroom():
    net = Lan(["server", "student", "teacher"])
    yield net
    net.close()


@netns
def test_a_window_finds_the_chat_joins_it_and_names_senders_from_the_first_line(classroom):
    """The start view's Join: server, port, group and relay style from the record; a window
    in another namespace is in the chat without typing an address, and alice's first line
    is credited to her (the record says the relay is attributed)."""
    lan = classroom
    server = _server(lan, "--title", "Ms Rivera's chat")
    env = dict(mdns_env(), QT_QPA_PLATFORM="offscreen")  # LANCHAT_START_VIEW_PNG: the picture
    output = {"text": True, "stdout": subprocess.PIPE, "stderr": subprocess.STDOUT}
    window = Process(lan.popen("student", [sys.executable, "-m", "tests.peers.join_child",
                                           "carol"], cwd=ROOT, env=env, **output))  # fmt: skip
    alice = Process(lan.popen("teacher", [
        sys.executable, "-m", "tests.peers.client", lan.addresses["server"], str(PORT), GROUP,
        str(GROUP_PORT), lan.addresses["teacher"]], stdin=subprocess.PIPE, cwd=ROOT,
        env=mdns_env(), **output))  # fmt: skip
    try:
        alice.expect("READY")
        alice.send("login,alice")
        alice.expect("RECV b'welcome,alice'")
        window.expect("FOUND")
        server.expect(f"login request has arrived from carol@('{lan.addresses['student']}'")
        window.expect("IN_CHAT")
        server_ip = lan.addresses["server"]
        window.expect(f"TITLE carol \u2014 Ms Rivera's chat ({server_ip}:{PORT}) | "
                      "[\"Ms Rivera's chat\"]")  # its name, shown and remembered  # fmt: skip
        alice.send("msg,hi carol")
        window.expect("NAMED")
        assert window.proc.wait(WAIT) == 0
        print(" ".join(window.output.seen))  # the times (the issue asks for them)
    finally:
        for process in (window, alice, server):
            process.stop()


@netns
def test_the_host_buttons_server_serves_another_host_and_ends_with_its_window(classroom):
    """Issue 26, point 3: Host a chat starts our server in the window's process, announced;
    a student on another host finds it and chats; closing the window ends it for all."""
    lan = classroom
    env = dict(mdns_env(), QT_QPA_PLATFORM="offscreen")
    output = {"text": True, "stdout": subprocess.PIPE, "stderr": subprocess.STDOUT}
    teacher = Process(lan.popen("teacher", [
        sys.executable, "-m", "tests.peers.host_child", "rivera", "Ms Rivera's chat",
    ], stdin=subprocess.PIPE, cwd=ROOT, env=env, **output))  # fmt: skip
    student = None
    try:
        teacher.expect(f"HOSTING {lan.addresses['teacher']}:{PORT} True")
        _, final = _browse(lan, 2.0)
        assert [(r["title"], r["address"]) for r in final] == [
            ("Ms Rivera's chat", lan.addresses["teacher"])
        ]
        student = _client(lan, "student", "teacher", "224.1.1.1", 2241)
        student.send("login,sam")
        student.expect("RECV b'welcome,sam'")
        student.send("msg,hello miss")
        student.expect("RECV b'msg,sam: hello miss'")
        teacher.send("close")
        student.expect("RECV b'bye,rivera'")
        student.expect("RECV b'bye,sam'")  # the server ended the chat for everyone
        teacher.expect("ENDED")
        assert teacher.proc.wait(WAIT) == 0
    finally:
        for process in (teacher, student):
            if process is not None:
                process.stop()


@netns
def test_host_a_chat_takes_the_spec_port_beside_run_chats_loopback_server(classroom):
    """Issue 36, point 3: with run-chat's server on 127.0.0.1:4321, Host a chat went to a
    random port, out of reach of implementations that assume 4321.  It binds the LAN
    address on 4321 now; a student's plain client reaches it there."""
    lan = classroom
    output = {"text": True, "stdout": subprocess.PIPE, "stderr": subprocess.STDOUT}
    loopback = Process(lan.popen("teacher", [
        sys.executable, "-m", "server_app", "--host", "127.0.0.1", "--port", str(PORT),
        "--interface", "127.0.0.1", "--no-advertise",
    ], cwd=ROOT, env=mdns_env(), **output))  # fmt: skip
    teacher = student = None
    try:
        loopback.expect("Multiuser server is ready on 127.0.0.1")
        env = dict(mdns_env(), QT_QPA_PLATFORM="offscreen")
        teacher = Process(lan.popen("teacher", [
            sys.executable, "-m", "tests.peers.host_child", "rivera", "Lab 3",
        ], stdin=subprocess.PIPE, cwd=ROOT, env=env, **output))  # fmt: skip
        teacher.expect(f"HOSTING {lan.addresses['teacher']}:{PORT} True")
        student = _client(lan, "student", "teacher", "224.1.1.1", 2241)
        student.send("login,sam")
        student.expect("RECV b'welcome,sam'")
        _, final = _browse(lan, 2.0)
        assert [(r["title"], r["port"]) for r in final] == [("Lab 3", PORT)]
        teacher.send("close")
        teacher.expect("ENDED")
    finally:
        for process in (teacher, student, loopback):
            if process is not None:
                process.stop()


@netns
def test_lanchat_host_from_a_terminal(lan):
    """``lanchat --host TITLE``: the window hosts at start; the student's host finds it."""
    env = dict(mdns_env(), QT_QPA_PLATFORM="offscreen")
    output = {"text": True, "stdout": subprocess.PIPE, "stderr": subprocess.STDOUT}
    teacher = Process(lan.popen("server", [
        sys.executable, "-m", "lanchat", "--host", "Lab 3", "--user", "rivera",
    ], cwd=ROOT, env=env, **output))  # fmt: skip
    try:
        teacher.expect("Announced on")
        _, final = _browse(lan, 2.0)
        assert [(r["title"], r["users"]) for r in final] in (
            [("Lab 3", 0)],
            [("Lab 3", 1)],  # rivera's login may be counted already
        )
        teacher.proc.terminate()  # Ctrl+C / closing the terminal: the chat ends
        teacher.expect("Multiuser server stopped")
        assert teacher.proc.wait(WAIT) == 0
    finally:
        teacher.stop()
