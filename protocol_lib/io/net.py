"""Socket helpers: the one place where the project's sockets are set up.

The I/O side of the fence (the core in ``protocol_lib`` never imports it);
server_app, qml_client, the tests and the benchmarks share it so that every
socket of the project is configured the same way, and fails with the same
explained errors.

Everything can be pinned to one interface by its IPv4 address: on a machine with
a VPN, Docker or several network cards the kernel's default route decides where
multicast goes, which is often not the LAN.  Tests pin everything to 127.0.0.1.
"""

from __future__ import annotations

import errno
import ipaddress
import socket
import struct
import sys
from collections.abc import Callable
from typing import Any

import ifaddr

from .. import ANY_INTERFACE as ANY_INTERFACE  # re-exported: the io modules and apps use it

RECEIVE_BUFFER_BYTES = 4 * 1024 * 1024
"""Asked for on every receiving socket: a burst of chat must wait in the kernel,
not be dropped, while Python is busy (Linux caps it at net.core.rmem_max)."""

READ_SIZE = 65536
"""Read size for datagrams: peers may send more than the 1024 bytes we send."""


class SocketSetupError(Exception):
    """A socket could not be set up; the message says which one and why, in one line."""


def _is(exc: OSError, name: str) -> bool:
    """``exc`` is the error ``name`` (EADDRINUSE, ...), also as Windows numbers it (its
    sockets report WSAEADDRINUSE, 10048, where POSIX says EADDRINUSE)."""
    codes = {getattr(errno, name, None), getattr(errno, "WSA" + name, None)} - {None}
    return exc.errno in codes


def why(exc: OSError) -> str:
    """What an OSError from setting up a socket means for the person who started us."""
    if _is(exc, "EADDRINUSE"):
        return "the port is already in use (is another server running?)"
    if _is(exc, "EADDRNOTAVAIL"):
        return "that address is not one of this machine's"
    if _is(exc, "EACCES"):
        if sys.platform == "win32":  # no privileged ports there: reserved, or held exclusively
            return "permission denied (Windows reserves this port, or a program holds it alone)"
        return "permission denied (ports below 1024 need privileges)"
    if _is(exc, "ENODEV"):
        return "no such network interface"
    return exc.strerror or str(exc)


NO_MULTICAST_INTERFACE = (
    "no network interface here can receive multicast (Wi-Fi off, no cable, or a VPN that "
    "took the default route): connect to the network, or give --interface with this "
    "computer's address on it (--interface 127.0.0.1 for a chat on this computer only)"
)


def why_not_joined(exc: OSError, interface: str) -> str:
    """Why joining a group on ``interface`` failed, for the person who started us.  On the
    OS's choice of interface (``0.0.0.0``) an unavailable address (macOS: EADDRNOTAVAIL)
    or device (Linux: ENODEV) means no interface takes multicast, not a wrong address: the
    person gave none."""
    if interface == ANY_INTERFACE and any(
        _is(exc, name)
        for name in ("EADDRNOTAVAIL", "ENODEV", "ENETDOWN", "ENETUNREACH", "EHOSTUNREACH")
    ):
        return NO_MULTICAST_INTERFACE
    return why(exc)


def cannot_join(exc: OSError, group: str, port: int, interface: str) -> str:
    """The one line a window or a page says when ``group_receiver`` failed."""
    where = f"{group}:{port} on interface {interface}"
    return f"cannot join the group {where}: {why_not_joined(exc, interface)}"


def unicast_socket(host: str, port: int, what: str) -> socket.socket:
    """A non-blocking UDP socket bound to ``host:port`` with a large receive buffer.

    Raises SocketSetupError naming ``what`` (e.g. "listen", "the reply socket")
    and the reason in words.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    try:
        enlarge_receive_buffer(sock)
        sock.bind((host, port))
        sock.setblocking(False)
    except OSError as exc:
        sock.close()
        raise SocketSetupError(f"cannot {what} on {host or '*'}:{port}: {why(exc)}") from exc
    return sock


def receive_timeout_option(seconds: float, platform: str = sys.platform) -> bytes:
    """SO_RCVTIMEO's value for ``seconds`` as ``platform``'s kernel reads it.

    Windows takes a DWORD of milliseconds (a timeval packed there read as 0: no
    timeout, and an idle server never woke); macOS a timeval whose microseconds
    are a 32-bit int (padded to 16 bytes); Linux and the BSDs two longs.
    """
    whole, micro = divmod(round(seconds * 1_000_000), 1_000_000)  # never 1,000,000 us
    if platform == "win32":
        return struct.pack("<I", max(1, round(seconds * 1000)))
    if platform == "darwin":
        return struct.pack("=qi4x", whole, micro)
    return struct.pack("@ll", whole, micro)


def block_with_kernel_timeout(sock: socket.socket, seconds: float) -> None:
    """Make ``sock`` block in the kernel for at most ``seconds`` per receive (SO_RCVTIMEO).

    A receive then costs one syscall, busy or idle: Python's own socket timeout
    polls before every recvfrom, and a non-blocking socket fails a recvfrom (an
    exception) and selects at every pause.  When the time is up, recvfrom raises
    BlockingIOError (TimeoutError on Windows: catch both).  A signal's handler
    runs and the call is retried (PEP 475), so a stop flag is seen within ``seconds``.
    """
    sock.settimeout(None)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, receive_timeout_option(seconds))


NOWAIT_FLAG = getattr(socket, "MSG_DONTWAIT", 0) or 0x40000000
"""The ``flags`` that make one ``receive_from`` call return at once (BlockingIOError when
nothing waits): MSG_DONTWAIT where the OS has it, else a flag ``_SwitchingReceive`` reads."""


class _SwitchingReceive:
    """``recvfrom`` for an OS without MSG_DONTWAIT (Windows): a call with NOWAIT_FLAG
    switches the socket to non-blocking, one without switches it back (one syscall per
    change of mode, none per datagram)."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._recvfrom = sock.recvfrom
        self._nowait = False

    def __call__(self, size: int, flags: int = 0) -> tuple[bytes, Any]:
        nowait = bool(flags & NOWAIT_FLAG)
        if nowait != self._nowait:
            self._sock.setblocking(not nowait)  # True: SO_RCVTIMEO applies again
            self._nowait = nowait
        return self._recvfrom(size, flags & ~NOWAIT_FLAG)


def receive_from(sock: socket.socket, seconds: float) -> Callable[[int, int], tuple[bytes, Any]]:
    """``sock``'s recvfrom, blocking up to ``seconds`` per call, or not at all when
    called with ``NOWAIT_FLAG``: on every OS, at no extra cost where MSG_DONTWAIT exists."""
    block_with_kernel_timeout(sock, seconds)
    if hasattr(socket, "MSG_DONTWAIT"):
        return sock.recvfrom
    return _SwitchingReceive(sock)


WSAENETRESET = 10052  # Windows: an ICMP "time exceeded" for an earlier send


def reports_an_earlier_send(exc: OSError) -> bool:
    """Whether a receive failed only to report what became of an earlier send (ICMP):
    Windows does that on unconnected UDP sockets (WSAECONNRESET for "port unreachable",
    WSAENETRESET for "time exceeded"); the next receive reads on.  Nothing to show."""
    return isinstance(exc, ConnectionResetError) or getattr(exc, "winerror", None) == WSAENETRESET


def nothing_listens(exc: OSError) -> bool:
    """Whether a *connected* UDP socket's send or receive failed with "port unreachable":
    nothing listens at the address it is connected to.  Linux and macOS raise
    ConnectionRefusedError; Windows raises ConnectionResetError (WSAECONNRESET)."""
    return isinstance(exc, (ConnectionRefusedError, ConnectionResetError))


def is_multicast(address: str) -> bool:
    """True for an IPv4 multicast address (224.0.0.0/4)."""
    try:
        return ipaddress.IPv4Address(address).is_multicast
    except ValueError:
        return False


def enlarge_receive_buffer(sock: socket.socket, size: int = RECEIVE_BUFFER_BYTES) -> int:
    """Ask for a large receive buffer; return what the kernel granted.

    Linux caps SO_RCVBUF at net.core.rmem_max (often 208 KiB, a few hundred
    datagrams); a process with CAP_NET_ADMIN may exceed it with SO_RCVBUFFORCE.
    """
    force = getattr(socket, "SO_RCVBUFFORCE", None)
    try:
        if force is None:
            raise PermissionError
        sock.setsockopt(socket.SOL_SOCKET, force, size)
    except OSError:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, size)
        except OSError:
            pass
    return sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)


def group_sender(interface: str = ANY_INTERFACE, ttl: int = 1, loop: bool = True) -> socket.socket:
    """A UDP socket that sends to multicast groups out of ``interface``.

    ``ttl`` 1 keeps datagrams on the local network, as the spec asks; ``loop``
    lets clients on the sending host itself receive them, where the sender decides that
    (``loop_is_the_senders``).
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    try:
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, ttl)
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 1 if loop else 0)
        if interface != ANY_INTERFACE:
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(interface))
    except OSError:
        sock.close()
        raise
    return sock


def loop_is_the_senders(platform: str = sys.platform) -> bool:
    """Whether IP_MULTICAST_LOOP on a *sending* socket decides if programs on the same
    machine hear what it sends.  Not on Windows: Winsock applies the option on the
    receive path, so only each receiving program can turn its own machine's multicast off."""
    return platform != "win32"


def group_receiver(
    group: str, port: int, interface: str = ANY_INTERFACE, timeout: float | None = None
) -> socket.socket:
    """A UDP socket joined to ``group`` on ``interface`` and bound to ``port``.

    SO_REUSEADDR and SO_REUSEPORT let several clients on one host all receive.
    It binds to the group address where the OS allows it (so datagrams for
    other groups on the same port stay out), else to all addresses.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if hasattr(socket, "SO_REUSEPORT"):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        enlarge_receive_buffer(sock)
        try:
            sock.bind((group, port))
        except OSError:
            sock.bind(("", port))
        membership = socket.inet_aton(group) + socket.inet_aton(interface)
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, membership)
        sock.settimeout(timeout)
    except OSError:
        sock.close()
        raise
    return sock


def local_networks() -> tuple[tuple[str, int], ...]:
    """This host's IPv4 addresses with their prefix lengths, as the OS lists them (ifaddr:
    getifaddrs, GetAdaptersAddresses); empty where it lists none."""
    try:
        adapters = ifaddr.get_adapters()
    except OSError:
        return ()
    return tuple(
        (ip.ip, ip.network_prefix)
        for adapter in adapters
        for ip in adapter.ips
        if isinstance(ip.ip, str)
    )


def local_addresses() -> frozenset[str]:
    """This host's IPv4 addresses (every address of every interface, plus 127.0.0.1).

    A server on this host may multicast from any of them (the kernel picks the
    outgoing interface's address), so a client that talks to it on 127.0.0.1
    must accept them all as the server's.  ``ifaddr`` asks the OS's own call
    (getifaddrs, GetAdaptersAddresses): a Linux ioctl found nothing on macOS, and
    the host name's addresses miss interfaces on every OS.
    """
    found = {"127.0.0.1", *(address for address, _ in local_networks())}
    if len(found) == 1:  # nothing listed (an unusual OS): what the host name resolves to
        try:
            found.update(socket.gethostbyname_ex(socket.gethostname())[2])
        except OSError:
            pass
    return frozenset(found)


def server_sources(server: str, extra: tuple[str, ...] = ()) -> frozenset[str]:
    """The source IPs whose datagrams speak for the server at ``server``.

    The server's own address, any the operator names (a server that
    multicasts from another address than the one clients send to), and every
    address of this host when the server is on it (reached on loopback).
    """
    sources = {server, *extra}
    if ipaddress.IPv4Address(server).is_loopback:
        sources |= local_addresses()
    return frozenset(sources)
