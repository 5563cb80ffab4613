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

ANY_INTERFACE = "0.0.0.0"
RECEIVE_BUFFER_BYTES = 4 * 1024 * 1024
"""Asked for on every receiving socket: a burst of chat must wait in the kernel,
not be dropped, while Python is busy (Linux caps it at net.core.rmem_max)."""

READ_SIZE = 65536
"""Read size for datagrams: peers may send more than the 1024 bytes we send."""


class SocketSetupError(Exception):
    """A socket could not be set up; the message says which one and why, in one line."""


def why(exc: OSError) -> str:
    """What an OSError from setting up a socket means for the person who started us."""
    if exc.errno == errno.EADDRINUSE:
        return "the port is already in use (is another server running?)"
    if exc.errno == errno.EADDRNOTAVAIL:
        return "that address is not one of this machine's"
    if exc.errno == errno.EACCES:
        return "permission denied (ports below 1024 need privileges)"
    if exc.errno == errno.ENODEV:
        return "no such network interface"
    return exc.strerror or str(exc)


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


def block_with_kernel_timeout(sock: socket.socket, seconds: float) -> None:
    """Make ``sock`` block in the kernel for at most ``seconds`` per receive (SO_RCVTIMEO).

    A receive then costs one syscall, busy or idle: Python's own socket timeout
    polls before every recvfrom, and a non-blocking socket fails a recvfrom (an
    exception) and selects at every pause.  When the time is up, recvfrom raises
    BlockingIOError.  A signal's handler runs and the call is retried (PEP 475),
    so a stop flag is seen within ``seconds``.
    """
    sock.settimeout(None)
    whole = int(seconds)
    micro = int((seconds - whole) * 1_000_000)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, struct.pack("ll", whole, micro))


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
    lets clients on the sending host itself receive them.
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


def local_addresses() -> frozenset[str]:
    """This host's IPv4 addresses (one per interface, plus 127.0.0.1).

    A server on this host may multicast from any of them (the kernel picks the
    outgoing interface's address), so a client that talks to it on 127.0.0.1
    must accept them all as the server's.
    """
    found = {"127.0.0.1"}
    try:
        import fcntl
        import struct

        siocgifaddr = 0x8915  # Linux: the interface's IPv4 address
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            for _, name in socket.if_nameindex():
                try:
                    packed = struct.pack("256s", name.encode()[:15])
                    reply = fcntl.ioctl(probe.fileno(), siocgifaddr, packed)
                except OSError:
                    continue  # an interface without an IPv4 address
                found.add(socket.inet_ntoa(reply[20:24]))
    except (ImportError, OSError):  # not Linux: what the host name resolves to
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
