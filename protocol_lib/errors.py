"""One error family for every wire rule, in the style of h11.

Callers catch ``ProtocolError`` (a ``ValueError``) and read ``reason``, a short
machine-readable code that stays stable across releases, so a server can count
rejections by cause and a GUI can pick its own wording.  ``LocalProtocolError``
means *we* were about to break the protocol (the caller's bug or the user's bad
input); ``RemoteProtocolError`` means a peer's datagram broke it.
"""

from __future__ import annotations

from .reasons import Reason


class ProtocolError(ValueError):
    """Base of every error raised by protocol_lib."""

    def __init__(self, reason: Reason, detail: str = "") -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason}: {detail}" if detail else reason)


class LocalProtocolError(ProtocolError):
    """Raised when something we were asked to send would break the wire format."""


class RemoteProtocolError(ProtocolError):
    """Raised when a received datagram cannot be understood."""
