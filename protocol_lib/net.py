"""Socket helpers for the multicast group: the one place these options are set.

Not part of the sans-I/O core (nothing in ``wire``, ``session``, ``server`` or
``client`` imports it); server_app, qml_client, the tests and the benchmarks
share it so that every socket of the project is configured the same way.

Everything can be pinned to one interface by its IPv4 address: on a machine with
a VPN, Docker or several network cards the kernel's default route decides where
multicast goes, which is often not the LAN.  Tests pin everything to 127.0.0.1.
"""

from __future__ import annotations

import ipaddress
import socket

ANY_INTERFACE = "0.0.0.0"
RECEIVE_BUFFER_BYTES = 4 * 1024 * 1024
"""Asked for on every receiving socket: a burst of chat must wait in the kernel,
not be dropped, while Python is busy (Linux caps it at net.core.rmem_max)."""

READ_SIZE = 65536
"""Read size for datagrams: peers may send more than the 1024 bytes we send."""


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
