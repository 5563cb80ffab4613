"""The doctor's probes: the facts ``protocol_lib.doctor.diagnose`` reads, from the network.

Within about ``LISTEN`` seconds, all at once:
- a datagram to the server on a connected UDP socket: an ICMP "port unreachable" comes
  back as ConnectionRefusedError (ConnectionResetError on Windows: nothing listens
  there); a reply proves it alive;
- with ``login``: a login under a probe name (everyone sees it join and leave) whose
  welcome, multicast by the server, proves that its group datagrams reach this host (or
  arrives from another of its addresses); ``exit,`` follows at once;
- the group, joined like the client joins it: who sends this protocol's datagrams there;
- the server's DNS-SD record (unless LANCHAT_NO_MDNS is set);
- the local addresses the kernel would use toward the server and toward the group.
"""

from __future__ import annotations

import contextlib
import select
import socket
import time
from typing import NamedTuple

from ..discovery import ChatRecord
from ..doctor import Findings
from .discovery import Browser, mdns_disabled
from .net import (
    ANY_INTERFACE,
    READ_SIZE,
    group_receiver,
    local_networks,
    nothing_listens,
    server_sources,
    why_not_joined,
)

LISTEN = 1.5  # seconds the probes wait for answers
RECORD_WAIT = 1.5  # more seconds for the server's DNS-SD record when nothing was heard
PROTOCOL_STARTS = (b"welcome,", b"msg,", b"bye,", b"list,")


def route_from(destination: tuple[str, int]) -> str | None:
    """The local address the kernel would send from toward ``destination`` (no datagram
    is sent: connecting a UDP socket only picks the route)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(destination)
            return str(probe.getsockname()[0])
        except OSError:
            return None


def probe(
    server: str,
    port: int,
    group: str,
    group_port: int,
    interface: str = ANY_INTERFACE,
    login: str | None = None,
    listen: float = LISTEN,
) -> Findings:
    """Look, for at most ``listen`` seconds; never raises for what the network does."""
    refused = answered = heard = announced = False
    announced_group: tuple[str, int] | None = None
    full: tuple[int, int] | None = None
    others: tuple[str, ...] = ()
    browser = None
    if not mdns_disabled():
        browser = Browser(lambda records: None)
        if browser.start() is not None:
            browser = None
    join_error = ""
    try:
        listener = group_receiver(group, group_port, interface)
    except OSError as exc:
        listener, join_error = None, why_not_joined(exc, interface)
    asker = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        asker.connect((server, port))
        asker.send(f"login,{login}".encode() if login else b"list,")
    except OSError as exc:  # a refusal reported at once, or no route (the route facts
        refused = nothing_listens(exc)  # below then say where it would go)
    # The server's own datagrams: the sources the window believes (its own check).
    servers = server_sources(server)
    deadline = time.monotonic() + listen
    welcomed = False
    try:
        if not refused:
            welcome = f"welcome,{login}".encode() if login else None
            found = _listen(asker, listener, servers, deadline, welcome)
            refused, answered, heard, welcomed, others = found
    finally:
        if login and not refused:
            with contextlib.suppress(OSError):
                asker.send(b"exit,")
        asker.close()
        if listener is not None:
            listener.close()
        if browser is not None:
            record = _announced(browser, server, 0.0 if heard or refused else RECORD_WAIT)
            announced, announced_group, full = _record_facts(record, group, group_port)
            if welcomed:  # let in: full or not a moment ago, not full for this login
                full = None
    return Findings(
        server, port, group, group_port, interface,
        addresses=local_networks(),
        refused=refused, answered=answered, announced=announced, heard_group=heard,
        other_sources=others,
        route_to_server=route_from((server, port)),
        route_to_group=route_from((group, group_port)),
        announced_group=announced_group,
        join_error=join_error,
        full=full,
    )  # fmt: skip


class _Heard(NamedTuple):
    refused: bool  # nothing listens at the server's address
    answered: bool  # a unicast reply came
    heard: bool  # the server was heard on the group
    welcomed: bool  # ... welcoming the probe's own login
    others: tuple[str, ...]  # other sources of this protocol's datagrams on the group


def _listen(
    asker: socket.socket,
    listener: socket.socket | None,
    servers: frozenset[str],
    deadline: float,
    welcome: bytes | None = None,
) -> _Heard:
    """Until ``deadline``, a refusal or the server heard on the group (with ``welcome``,
    the probe login's: until that, so a chat that is heard but refused the login is told
    from one that let it in)."""
    refused = answered = heard = welcomed = False
    others: dict[str, None] = {}
    sockets = [s for s in (asker, listener) if s is not None]
    while (
        not refused
        and not (heard and (welcome is None or welcomed))
        and (left := deadline - time.monotonic()) > 0
    ):
        ready, _, _ = select.select(sockets, [], [], left)
        for sock in ready:
            try:
                data, (source, _) = sock.recvfrom(READ_SIZE)
            except OSError as exc:
                refused = refused or (sock is asker and nothing_listens(exc))
                continue
            if sock is asker:
                answered = True
            elif source in servers:
                heard = True
                welcomed = welcomed or data == welcome
            elif data.startswith(PROTOCOL_STARTS):
                others[source] = None
    return _Heard(refused, answered, heard, welcomed, tuple(others))


def _announced(browser: Browser, server: str, wait: float) -> ChatRecord | None:
    """The server's record, if seen: nothing heard, is it there at all? Its record may
    need a moment more than the probes (``wait``); the browser is closed after."""
    until = time.monotonic() + wait
    try:
        while True:
            for record in browser.found():
                if record.address == server:
                    return record
            if time.monotonic() >= until:
                return None
            time.sleep(0.05)  # polling zeroconf's list, bounded by ``wait``
    finally:
        browser.close()


def _record_facts(
    record: ChatRecord | None, group: str, group_port: int
) -> tuple[bool, tuple[str, int] | None, tuple[int, int] | None]:
    """(announced at all, the group it names when that is not the one asked about, and
    (people in, as many as it lets in) when it says it is full)."""
    if record is None:
        return False, None, None
    named = (record.group, record.group_port)
    full = (record.users or 0, record.capacity or 0) if record.full else None
    return True, (named if named != (group, group_port) else None), full
