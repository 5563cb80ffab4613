"""Make this interpreter look like one on Windows as far as our code can tell: no
``fcntl``, ``socket`` without MSG_DONTWAIT, SO_REUSEPORT, SO_RCVBUFFORCE and IP_RECVTTL,
sockets without ``recvmsg``/``sendmsg`` (Winsock has neither), and "port unreachable"
reported as Winsock reports it: ConnectionResetError (WSAECONNRESET), not
ConnectionRefusedError.

Put this folder first on PYTHONPATH and every Python process started with that
environment (a test run, the servers and clients it starts) runs without those
Linux extras: the seams in protocol_lib/io/net.py and qml_client/name_hold.py
take the branch they take on Windows (and, for SO_RCVBUFFORCE, macOS).
"""

import socket
import sys

sys.modules["fcntl"] = None  # type: ignore[assignment]  # "import fcntl" raises ImportError
for _name in ("MSG_DONTWAIT", "SO_REUSEPORT", "SO_RCVBUFFORCE", "IP_RECVTTL"):
    if hasattr(socket, _name):
        delattr(socket, _name)


def _missing(self: socket.socket, *args: object, **kwargs: object) -> None:
    raise AttributeError("'socket' object has no attribute (as on Windows)")


def _as_winsock(call):  # type: ignore[no-untyped-def]
    def winsock(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        try:
            return call(self, *args, **kwargs)
        except ConnectionRefusedError as exc:
            raise ConnectionResetError(
                10054,
                "An existing connection was forcibly closed "
                "by the remote host (as Windows says it)",
            ) from exc

    return winsock


_HIDDEN = frozenset({"recvmsg", "recvmsg_into", "sendmsg"})


class _WithoutMsgCalls(type):
    """The class too lacks them: asyncio (3.12+) asks ``hasattr(socket.socket, "sendmsg")``
    once and then calls it on every socket; Winsock has none of them."""

    def __getattribute__(cls, name: str) -> object:
        if name in _HIDDEN:
            raise AttributeError(name)
        return super().__getattribute__(name)


class _WinsockLike(socket.socket, metaclass=_WithoutMsgCalls):
    """Windows' socket: ``hasattr(sock, "recvmsg")`` is False, and a call fails as there."""

    recvmsg = property(_missing)  # type: ignore[assignment]
    recvmsg_into = property(_missing)  # type: ignore[assignment]
    sendmsg = property(_missing)  # type: ignore[assignment]
    recv = _as_winsock(socket.socket.recv)
    recvfrom = _as_winsock(socket.socket.recvfrom)
    recv_into = _as_winsock(socket.socket.recv_into)
    recvfrom_into = _as_winsock(socket.socket.recvfrom_into)
    send = _as_winsock(socket.socket.send)
    sendto = _as_winsock(socket.socket.sendto)


socket.socket = _WinsockLike  # type: ignore[misc]  # every socket made from here on
