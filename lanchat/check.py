"""``lanchat-check``: a conformance kit for any server or client of this protocol (issue 28).

    lanchat-check server --cmd "python3 server.py"      # starts it, reads its log too
    lanchat-check server 127.0.0.1:4321                 # one already running
    lanchat-check server ... --markdown report.md --json
    lanchat-check client [--cmd "python3 client.py"]    # plays its server; asks you things

Each check is a row: an id, the rubric's line and points it bears on, a verdict (``pass``,
``fail`` or ``note``) and what was sent and seen.  The kit plays clients on its own UDP
sockets and listens to the group (224.1.1.1:2241 unless told otherwise); it talks only to
the address it was given (loopback by default) and to the group, every wait has a
timeout, and a server it started runs in its own process group and is ended at the end.
The exit status is 0 only when no row fails.  No Qt: the base package alone.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import select
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from protocol_lib import DEFAULT_GROUP, DEFAULT_GROUP_PORT, DEFAULT_SERVER_PORT
from protocol_lib.io.net import group_receiver, group_sender, nothing_listens, why_not_joined

from .launcher import server_is_listening

WAIT = 2.0  # seconds for an answer that should come at once
START_WAIT = 10.0  # seconds for a started server to listen
RUBRIC = {
    "sockets": ("the two server sockets were created and bound correctly", 10),
    "login": ("server 'login' type message was implemented correctly", 10),
    "msg": ("server 'msg' type message was implemented correctly", 10),
    "list": ("server 'list' type message was implemented correctly", 10),
    "exit": ("server 'exit' type message was implemented correctly", 10),
    "duplicate-name": ("(beyond the rubric) a name already in the chat", 0),
    "not-logged-in": ("(beyond the rubric) a message from an address never logged in", 0),
    "log-format": ("the server displays the messages that arrive (the spec's format)", 0),
    "robust": ("(beyond the rubric) bad datagrams and a burst: still answering", 0),
}
TIMESTAMP = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)?"
ADDRESS = r"\('[\d.]+', \d+\)"


@dataclass
class Row:
    id: str
    verdict: str  # pass, fail, note
    detail: str
    rubric: str = ""
    points: int = 0

    def __post_init__(self) -> None:
        if not self.rubric:
            self.rubric, self.points = RUBRIC.get(self.id, ("", 0))


# Asking for each datagram's TTL (IPPROTO_IP option) and how it arrives (the ancillary
# message's type): Linux asks with IP_RECVTTL and answers as IP_TTL, an int; macOS asks and
# answers with its own IP_RECVTTL, one byte.  Python names IP_RECVTTL on some platforms
# only, so the numbers are the kernels' own.  Windows' sockets have no recvmsg at all.
TTL_ANCILLARY = {"linux": (12, 2), "darwin": (24, 24)}


def ttl_ancillary(platform: str = sys.platform) -> tuple[int, int] | None:
    """(the option that asks for each datagram's TTL, the type it arrives as) on
    ``platform``; None where the kit cannot read it."""
    return TTL_ANCILLARY.get("linux" if platform.startswith("linux") else platform)


def received_ttl(ancillary: list[tuple[int, int, bytes]], kind: int) -> int | None:
    """The TTL in ``recvmsg``'s ancillary data (an int on Linux, one byte on macOS)."""
    for level, got, value in ancillary:
        if level == socket.IPPROTO_IP and got == kind and value:
            return value[0] if len(value) == 1 else int.from_bytes(value[:4], sys.byteorder)
    return None


@dataclass
class Group:
    """The group, listened to in a thread: every datagram, with its time and source."""

    group: str
    port: int
    interface: str
    seen: list[tuple[float, str, bytes]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.sock = group_receiver(self.group, self.port, self.interface)
        self.ttls: set[int] = set()  # the IP TTL of what arrived (where the OS tells it)
        self.failure = ""  # what stopped the listener, if anything did
        self._ttl_kind: int | None = None  # set when each datagram's TTL can be read here
        asked = ttl_ancillary()
        if asked is not None and hasattr(self.sock, "recvmsg"):
            try:
                self.sock.setsockopt(socket.IPPROTO_IP, asked[0], 1)
                self._ttl_kind = asked[1]
            except OSError:
                pass  # this kernel does not tell it: "unknown here"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    @property
    def reads_ttl(self) -> bool:
        """Whether this OS tells the kit each datagram's TTL (not Windows)."""
        return self._ttl_kind is not None

    def _read(self) -> None:
        try:
            while not self._stop.is_set():
                ready, _, _ = select.select([self.sock], [], [], 0.2)
                if ready:
                    with contextlib.suppress(OSError):  # a datagram lost: the rows say so
                        self._receive()
        except Exception as exc:  # a bug of the kit's: said in the report, and raised
            self.failure = f"the kit's listener stopped: {type(exc).__name__}: {exc}"
            raise

    def _receive(self) -> None:
        if self._ttl_kind is None:
            data, (source, _) = self.sock.recvfrom(65536)
        else:
            data, ancillary, _, (source, _) = self.sock.recvmsg(65536, 64)
            ttl = received_ttl(ancillary, self._ttl_kind)
            if ttl is not None:
                self.ttls.add(ttl)
        self.seen.append((time.monotonic(), source, data))

    def wait_for(self, found, since: float, timeout: float = WAIT) -> bytes | None:  # type: ignore[no-untyped-def]
        """The first datagram after ``since`` that ``found`` accepts, or None."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for at, _, data in list(self.seen):
                if at >= since and found(data):
                    return data
            time.sleep(0.02)  # polling the listener's list, bounded by ``timeout``
        return None

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()


class Peer:
    """One client of the server under test: its own socket, as every real client has."""

    def __init__(self, server: tuple[str, int]) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.connect(server)

    def send(self, data: bytes) -> float:
        now = time.monotonic()
        with contextlib.suppress(OSError):  # a refusal shows in what does not come back
            self.sock.send(data)
        return now

    def replies(self, timeout: float = WAIT) -> list[bytes]:
        """What came back to this socket by unicast within ``timeout``."""
        got: list[bytes] = []
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select([self.sock], [], [], left)
            if not ready:
                break
            try:
                got.append(self.sock.recv(65536))
            except OSError as exc:
                if nothing_listens(exc):
                    got.append(b"<refused>")
                break
        return got

    def close(self) -> None:
        self.sock.close()


def said(data: bytes, kind: bytes, user: str) -> bool:
    """``data`` is ``kind,user``, a blank after the comma forgiven (seen in the wild)."""
    head, sep, body = data.partition(b",")
    return bool(sep) and head == kind and body.strip() == user.encode()


def _text(data: bytes | None) -> str:
    return "nothing" if data is None else repr(data.decode("utf-8", errors="replace"))


def check_server(
    server: tuple[str, int], group: str, group_port: int, interface: str,
    process: subprocess.Popen[str] | None = None, output: list[str] | None = None,
) -> list[Row]:  # fmt: skip
    """Every row, against a server already listening at ``server``."""
    rows: list[Row] = []
    try:
        listener = Group(group, group_port, interface)
    except OSError as exc:  # the kit's own side: said, nothing judged
        why_not = why_not_joined(exc, interface)
        return [Row("sockets", "fail", f"the kit cannot join the group {group}:{group_port} "
                    f"here, so it cannot judge the server: {why_not}")]  # fmt: skip
    peers: list[Peer] = []

    def peer() -> Peer:
        peers.append(Peer(server))
        return peers[-1]

    try:
        alice, bob, stranger = peer(), peer(), peer()
        since = alice.send(b"login,alice")
        welcome = listener.wait_for(lambda d: said(d, b"welcome", "alice"), since)
        refused = b"<refused>" in alice.replies(0.1)
        rows.append(_sockets_row(server, group, group_port, welcome, refused, listener))
        if refused:  # nothing to judge: said at once, not after every row's wait
            unjudged = f"not checked: nothing listens at {server[0]}:{server[1]}"
            rows += [Row(row_id, "fail", unjudged) for row_id in ("login", "msg", "list", "exit")]
        else:
            rows.append(Row("login", "pass" if welcome else "fail",
                            f"sent login,alice; the group had {_text(welcome)}"))  # fmt: skip
            rows += _msg_list_exit(listener, alice, bob, stranger)
            rows.append(_robust(listener, peer, process))
        rows.append(_log_row(output))  # a server that does not listen often says why there
    finally:
        for p in peers:
            p.close()
        listener.close()
    order = list(RUBRIC)
    return sorted(rows, key=lambda row: order.index(row.id))


def _sockets_row(server, group, group_port, welcome, refused, listener) -> Row:  # type: ignore[no-untyped-def]
    where = f"{server[0]}:{server[1]}"
    if refused:
        return Row("sockets", "fail", f"nothing listens at {where} (ICMP port unreachable)")
    if listener.failure:
        return Row("sockets", "fail", listener.failure)
    if welcome is None:
        return Row("sockets", "fail", f"{where} took a login, but nothing came on the group "
                   f"{group}:{group_port} (the wrong group, port or interface?)")  # fmt: skip
    ttls = listener.ttls
    ttl = "; TTL unknown here (this OS does not tell the kit a datagram's TTL)"
    if ttls:
        sent = ", ".join(str(t) for t in sorted(ttls))
        ttl = (f"; TTL {sent}" if ttls == {1} else
               f"; TTL {sent}: the spec's chat stays on its subnet with TTL 1")  # fmt: skip
    elif listener.reads_ttl:
        ttl = ""
    return Row("sockets", "pass", f"unicast {where} listens; the group {group}:{group_port} "
               f"carries its answers{ttl}")  # fmt: skip


def _msg_list_exit(listener: Group, alice: Peer, bob: Peer, stranger: Peer) -> list[Row]:
    rows: list[Row] = []
    since = alice.send(b"msg,hello, all")
    relay = listener.wait_for(lambda d: d.startswith(b"msg,") and b"hello, all" in d, since)
    if relay is None:
        rows.append(Row("msg", "fail", "sent msg,hello, all; nothing relayed on the group"))
    else:
        style = "plain (msg,<msg>)" if relay == b"msg,hello, all" else "with a sender prefix"
        rows.append(Row("msg", "pass", f"relayed {_text(relay)}: {style}; both are the spec"))
    since = bob.send(b"login,bob")  # two in the chat: the list shows its separators
    listener.wait_for(lambda d: said(d, b"welcome", "bob"), since)
    since = alice.send(b"list,")
    on_group = listener.wait_for(lambda d: d.startswith(b"list,"), since)
    by_unicast = [d for d in alice.replies(0.3 if on_group else WAIT) if d.startswith(b"list,")]
    reply = on_group or (by_unicast[0] if by_unicast else None)
    names = [n.strip() for n in (reply or b"").decode(errors="replace")[5:].split(",")]
    if reply is None:
        rows.append(Row("list", "fail", "sent list,; no list, reply on the group or by unicast"))
    elif "alice" not in names or "bob" not in names:
        rows.append(Row("list", "fail", f"the reply {_text(reply)} does not name alice and "
                        "bob, separated by commas"))  # fmt: skip
    else:
        where = "on the group" if on_group else "by unicast to the asker"
        blanks = " (names separated by ', ')" if b", " in reply else ""
        rows.append(Row("list", "pass", f"answered {where}{blanks}: {_text(reply)}"))
    since = alice.send(b"exit,")
    bye = listener.wait_for(lambda d: d.startswith(b"bye,") or b"alice" in d, since)
    if bye is not None and said(bye, b"bye", "alice"):
        rows.append(Row("exit", "pass", "sent exit,; the group had 'bye,alice'"))
    else:
        rows.append(Row("exit", "fail", f"sent exit,; expected 'bye,alice', the group had "
                        f"{_text(bye)}"))  # fmt: skip
    bob.send(b"exit,")
    rows += _beyond_the_rubric(listener, bob, stranger)
    return rows


def _beyond_the_rubric(listener: Group, bob: Peer, stranger: Peer) -> list[Row]:
    """What the spec leaves open, noted: a name taken twice, a stranger's line."""
    rows: list[Row] = []
    since = bob.send(b"login,carol")
    listener.wait_for(lambda d: said(d, b"welcome", "carol"), since)
    since = stranger.send(b"login,carol")  # a second client, the same name
    again = listener.wait_for(lambda d: said(d, b"welcome", "carol"), since, 1.0)
    rows.append(Row("duplicate-name", "note",
                    "a second login,carol from another port was welcomed again"
                    if again else "a second login,carol from another port got no welcome "
                    "(refused or ignored; the spec does not say)"))  # fmt: skip
    newcomer = Peer(bob.sock.getpeername())
    try:
        since = newcomer.send(b"msg,who am I")
        relayed = listener.wait_for(lambda d: b"who am I" in d, since, 1.0)
    finally:
        newcomer.close()
    stranger_line = "a msg from an address never logged in was"
    rows.append(Row("not-logged-in", "note", f"{stranger_line} relayed as {_text(relayed)}"
                    if relayed else f"{stranger_line} not relayed"))  # fmt: skip
    return rows


ROBUST_INPUTS = [
    (b"", "an empty datagram"),
    (b"hello", "no comma"),
    (b"shout,HELLO", "an unknown command"),
    (b"msg,\xff\xfe\xfa", "bytes that are not UTF-8"),
    (b"msg," + "\u00e9".encode() * 510 + b"\xc3", "a UTF-8 character cut at 1,024 bytes"),
    (b"msg," + b"x" * 1496, "1,500 bytes"),
]


def _robust(listener: Group, peer, process) -> Row:  # type: ignore[no-untyped-def]
    sender = peer()
    sender.send(b"login,robin")
    for data, _ in ROBUST_INPUTS:
        sender.send(data)
    for i in range(1000):  # a burst: the kit's loop is bounded in count
        sender.send(f"msg,burst {i}".encode())
    time.sleep(0.5)  # what the burst left in flight is not what is checked next
    since = peer().send(b"login,zed")
    alive = listener.wait_for(lambda d: said(d, b"welcome", "zed"), since, WAIT * 2)
    sent = ", ".join(what for _, what in ROBUST_INPUTS) + ", a burst of 1,000 lines"
    if process is not None and process.poll() is not None:
        return Row("robust", "fail", f"after {sent}: the server's process ended "
                   f"(status {process.returncode})")  # fmt: skip
    if alive is None:
        return Row("robust", "fail", f"after {sent}: a new login got no welcome")
    return Row("robust", "pass", f"after {sent}: still welcomes a new login")


LOG_LINES = {
    "login": rf"{TIMESTAMP} login request has arrived from alice@{ADDRESS}",
    "msg": rf'{TIMESTAMP} msg "hello, all" has arrived from user: alice@{ADDRESS}',
    "list": rf"{TIMESTAMP} list request has arrived from user: alice@{ADDRESS}",
}


def _log_row(output: list[str] | None) -> Row:
    if output is None:
        return Row("log-format", "note", "the kit did not start the server: no log to read")
    text = "\n".join(output)
    ready = re.search(r"ready on .*:\d+", text)
    missing = [kind for kind, pattern in LOG_LINES.items() if not re.search(pattern, text)]
    if missing or not ready:
        what = ", ".join(missing + ([] if ready else ["the 'ready on HOST:PORT' line"]))
        return Row("log-format", "fail", f"no line in the spec's format for: {what}")
    return Row("log-format", "pass", "the ready line, and login, msg and list lines as the spec")


# --- running it ------------------------------------------------------------------


OWN_GROUP: dict[str, object] = (
    {"creationflags": getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)}
    if sys.platform == "win32"
    else {"start_new_session": True}
)
"""How the kit starts a command: in a process group of its own, ended as a whole."""


def command_words(command: str, platform: str = sys.platform) -> str | list[str]:
    """``--cmd`` as Popen takes it: words split as a POSIX shell would, or on Windows the
    line itself (CreateProcess parses it there; POSIX splitting ate the backslashes of
    C:\\Python311\\python.exe)."""
    return command if platform == "win32" else shlex.split(command)


def _end(process: subprocess.Popen) -> None:  # type: ignore[type-arg]
    """End a command the kit started, and everything it started (its process group)."""
    if sys.platform == "win32":
        process.terminate()
    else:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(5)
    except subprocess.TimeoutExpired:
        if sys.platform == "win32":
            process.kill()
        else:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def run_server_check(args: argparse.Namespace) -> list[Row]:
    host, _, port_text = args.target.partition(":")
    server = (host or "127.0.0.1", int(port_text) if port_text else DEFAULT_SERVER_PORT)
    if args.cmd is None:
        return check_server(server, args.group, args.group_port, args.interface)
    process = subprocess.Popen(
        command_words(args.cmd), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        errors="replace", **OWN_GROUP,  # type: ignore[call-overload]
    )  # fmt: skip
    output: list[str] = []
    assert process.stdout is not None
    stream = process.stdout
    threading.Thread(target=lambda: output.extend(stream), daemon=True).start()
    try:
        deadline = time.monotonic() + START_WAIT
        while not server_is_listening(server[1]) and process.poll() is None:
            if time.monotonic() > deadline:
                return [Row("sockets", "fail", f"no UDP port {server[1]} within {START_WAIT:g} s")]
            time.sleep(0.05)  # waiting for the command's bind, bounded
        if process.poll() is not None:
            return [Row("sockets", "fail", f"the command ended at once (status "
                        f"{process.returncode}): {' '.join(output)[-300:]}")]  # fmt: skip
        rows = check_server(server, args.group, args.group_port, args.interface, process, output)
    finally:
        _end(process)
    return rows


def table(rows: list[Row]) -> str:
    """Each row: the check, its verdict and points, the rubric's line, what was seen."""
    width = max(len(r.id) for r in rows)
    lines = [f"{'check':<{width}}  verdict  points  rubric / detail"]
    for r in rows:
        points = f"{r.points if r.verdict == 'pass' else 0}/{r.points}" if r.points else "-"
        lines.append(f"{r.id:<{width}}  {r.verdict:<7}  {points:<6}  {r.rubric}")
        lines.append(f"{'':<{width}}  {'':<7}  {'':<6}    {r.detail}")
    earned = sum(r.points for r in rows if r.verdict == "pass")
    lines.append(f"rubric points: {earned}/{sum(r.points for r in rows)}")
    return "\n".join(lines)


def markdown(rows: list[Row]) -> str:
    out = ["| check | rubric | verdict | points | detail |", "|---|---|---|---|---|"]
    for r in rows:
        points = f"{r.points if r.verdict == 'pass' else 0}/{r.points}" if r.points else ""
        detail = r.detail.replace("|", "\\|")
        out.append(f"| {r.id} | {r.rubric} | {r.verdict} | {points} | {detail} |")
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="lanchat-check",
        description="Check a server of the login/msg/list/exit protocol against the spec "
        "and its rubric.",
    )
    sub = parser.add_subparsers(dest="mode", required=True)
    server = sub.add_parser("server", help="check a server (started here with --cmd, or running)")
    local = f"127.0.0.1:{DEFAULT_SERVER_PORT}"
    server.add_argument("target", nargs="?", default=local, metavar="HOST[:PORT]",
                        help=f"where the server listens (default {local})")  # fmt: skip
    server.add_argument("--cmd", help='start the server with this command, e.g. '
                        '"python3 server.py" (its log is checked too)')  # fmt: skip
    server.add_argument("--group", default=DEFAULT_GROUP)
    server.add_argument("--group-port", type=int, default=DEFAULT_GROUP_PORT)
    server.add_argument("--interface", default="0.0.0.0",
                        help="where to join the group (default: the OS's choice)")  # fmt: skip
    client = sub.add_parser("client", help="check a client: the kit plays its server, and "
                            "asks you to type into it and what it shows")  # fmt: skip
    client.add_argument("--cmd", help="start the client with this command")
    client.add_argument("--port", type=int, default=DEFAULT_SERVER_PORT,
                        help="the kit's server port on 127.0.0.1 (default 4321)")  # fmt: skip
    client.add_argument("--group", default=DEFAULT_GROUP)
    client.add_argument("--group-port", type=int, default=DEFAULT_GROUP_PORT)
    client.add_argument("--interface", default="127.0.0.1",
                        help="where the kit sends to the group (default loopback)")  # fmt: skip
    client.add_argument("--wait", type=float, default=60.0,
                        help="seconds for each thing the client should send")  # fmt: skip
    for mode in (server, client):
        mode.add_argument("--markdown", type=Path, metavar="FILE", help="also write a report")
        mode.add_argument("--json", action="store_true", help="print the rows as JSON instead")
    args = parser.parse_args(argv)
    rows = run_server_check(args) if args.mode == "server" else run_client_check(args)
    if args.json:
        print(json.dumps([asdict(r) for r in rows], indent=2))
    else:
        print(table(rows))
    if args.markdown is not None:
        args.markdown.write_text(markdown(rows), encoding="utf-8")
    return 1 if any(r.verdict == "fail" for r in rows) else 0


# --- the client mode ----------------------------------------------------------------

CLIENT_RUBRIC = {
    "login": ("client's unicast UDP socket and server address (login,<user> arrives first)", 10),
    "msg": ("client allows users to send messages to the server", 5),
    "list": ("(the protocol) list, asked by the client", 0),
    "shows": ("client allows users to display messages received by the server", 5),
    "still-receiving": ("thread's run code to read from the mcast socket and update the GUI", 5),
    "exit": ("(the protocol) exit, when the user leaves", 0),
}


class Person:
    """The one at the keyboard: told what to do, asked what the window shows."""

    def __init__(self, ask: bool = True) -> None:
        self.ask = ask

    def tell(self, text: str) -> None:
        print(f"> {text} [Enter]", flush=True)
        if self.ask:
            sys.stdin.readline()

    def yes(self, question: str) -> bool:
        print(f"> {question} [y/n]", flush=True)
        return sys.stdin.readline().strip().lower().startswith("y")


class KitServer:
    """The kit as the client's server: a unicast socket, and the group it sends to."""

    def __init__(self, port: int, group: str, group_port: int, interface: str) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", port))
        self.group = (group, group_port)
        self.interface = interface
        self.mcast = group_sender(interface)  # TTL 1, as the spec's servers send
        self.client: tuple[str, int] | None = None

    @property
    def port(self) -> int:
        return int(self.sock.getsockname()[1])

    def expect(self, timeout: float) -> bytes | None:
        """The next datagram from the client (or anyone, before it is known)."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select([self.sock], [], [], left)
            if not ready:
                return None
            data, addr = self.sock.recvfrom(65536)
            if self.client is None or addr == self.client:
                self.client = self.client or addr
                return data
        return None

    def to_group(self, data: bytes) -> None:
        self.mcast.sendto(data, self.group)

    def from_elsewhere(self, data: bytes) -> None:
        """``data`` to the group from another address (127.0.0.2: still this machine)."""
        with group_sender(self.interface) as other:
            with contextlib.suppress(OSError):
                other.bind(("127.0.0.2", 0))
                other.sendto(data, self.group)

    def close(self) -> None:
        self.sock.close()
        self.mcast.close()


def check_client(kit: KitServer, person: Person, process: subprocess.Popen[bytes] | None,
                 wait: float = 60.0) -> list[Row]:  # fmt: skip
    rows: list[Row] = []
    where = f"127.0.0.1:{kit.port}, group {kit.group[0]}:{kit.group[1]}"
    person.tell(f"Start the client for the server {where} and log in as alice")
    first = kit.expect(wait)
    if first is None or not said(first, b"login", "alice"):
        rows.append(Row("login", "fail", f"expected login,alice first; got {_text(first)}"))
        return rows
    rows.append(Row("login", "pass", f"login,alice from {kit.client[0]}:{kit.client[1]}"))  # type: ignore[index]
    kit.to_group(b"welcome,alice")
    person.tell("Send the message: hello there")
    line = kit.expect(wait)
    while line is not None and line.strip() == b"list,":  # asked by itself after a welcome
        kit.to_group(b"list,alice")
        line = kit.expect(wait)
    rows.append(Row("msg", "pass" if line == b"msg,hello there" else "fail",
                    f"expected msg,hello there; got {_text(line)}"))  # fmt: skip
    kit.to_group(b"msg,alice: hello there")
    person.tell("Ask for the list of users")
    asked = kit.expect(wait)
    rows.append(Row("list", "pass" if asked is not None and asked.strip() == b"list," else "note",
                    f"expected list,; got {_text(asked)}"))  # fmt: skip
    kit.to_group(b"list,alice")
    shows = {
        "a plain relay": b"msg,plain relay test",
        "a relay with a sender": b"msg,bob: relay with a sender",
        "a list with blanks": b"list,alice, bob",
        "bytes that are not UTF-8": b"msg,\xff\xfe not UTF-8",
        "1,400 bytes": b"msg," + b"y" * 1396,
    }
    for data in shows.values():
        kit.to_group(data)
    if kit.client is not None:
        kit.sock.sendto(b"list,alice,bob,carol", kit.client)  # a list by unicast
    kit.from_elsewhere(b"bye,alice")  # a datagram from a host that is not the server
    seen = person.yes("Did the window show 'plain relay test', 'relay with a sender' (from bob), "
                      "the lists and the long line, without freezing?")  # fmt: skip
    rows.append(Row("shows", "pass" if seen else "fail",
                    f"sent {', '.join(shows)}, a list by unicast and a forged bye,alice from "
                    f"another address; the person said "
                    f"{'yes' if seen else 'no'}"))  # fmt: skip
    kit.to_group(b"msg,carol: are you still there?")
    alive = process is None or process.poll() is None
    still = alive and person.yes("Did 'are you still there?' (from carol) appear?")
    rows.append(Row("still-receiving", "pass" if still else "fail",
                    "the client's process ended" if not alive else
                    f"after all that, the person said {'yes' if still else 'no'}"))  # fmt: skip
    person.tell("Leave the chat (close the window, or type exit)")
    bye = kit.expect(wait)
    if bye is not None and bye.strip() == b"exit,":
        rows.append(Row("exit", "pass", "exit, on leaving"))
    elif bye is not None and bye.startswith(b"exit,"):
        rows.append(Row("exit", "fail", f"sent {_text(bye)}: the spec's exit, has nothing "
                        "after the comma"))  # fmt: skip
    else:
        rows.append(Row("exit", "fail", f"expected exit, on leaving; got {_text(bye)}"))
    kit.to_group(b"bye,alice")
    for row in rows:
        row.rubric, row.points = CLIENT_RUBRIC[row.id]
    return rows


def run_client_check(args: argparse.Namespace) -> list[Row]:
    kit = KitServer(args.port, args.group, args.group_port, args.interface)
    process = None
    if args.cmd is not None:
        process = subprocess.Popen(command_words(args.cmd), **OWN_GROUP)  # type: ignore[call-overload]
    try:
        return check_client(kit, Person(), process, args.wait)
    finally:
        kit.close()
        if process is not None:
            _end(process)


if __name__ == "__main__":
    sys.exit(main())
