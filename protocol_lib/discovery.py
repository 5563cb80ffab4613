"""What a chat server says about itself in DNS-SD, and what a client makes of it: no
sockets here (``protocol_lib.io.discovery`` advertises and browses with python-zeroconf).

A server advertises ``<title> (<address>:<port>)._lanchat._udp.local.`` with its unicast
port as the service port and these TXT keys, beside the protocol (nothing in the chat's
datagrams changes):

``v``           the record's version (``1``)
``group``       the multicast group it sends to
``group-port``  the group's port
``name``        a human title ("Ms Rivera's chat")
``relay``       ``attributed`` (``msg,<user>: <text>``, ours) or ``plain`` (the spec's)
``users``       how many are in the chat, when the server says (it may be out of date)
``max``         how many it lets in at once (``--max-sessions``): ``users`` at ``max`` is a
                full chat, which a login's silence alone cannot tell from a dead one
``web``         the TCP port of a web gateway on the same address (``lanchat-server --web``):
                phones and browsers join at ``http://<address>:<web>/``

A record is foreign data: anything missing or malformed makes it ``None`` with the reason
(``read_record``), never an exception, and its title is shown as plain text.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from .client_events import RelayStyle

SERVICE_TYPE = "_lanchat._udp.local."
RECORD_VERSION = "1"
MAX_TITLE = 63  # bytes: a DNS label (the instance name is built from it)


@dataclass(frozen=True, slots=True)
class ChatRecord:
    """One chat found on the network (or about to be advertised)."""

    title: str
    address: str  # the server's IPv4 address (where clients send)
    port: int  # the server's UDP port
    group: str
    group_port: int
    relay: RelayStyle = RelayStyle.UNKNOWN
    users: int | None = None
    web: int | None = None  # a web gateway's TCP port on ``address``
    capacity: int | None = None  # how many the server lets in at once (TXT ``max``)

    @property
    def full(self) -> bool:
        """The record says the chat has as many people as its server lets in."""
        return (
            self.users is not None and self.capacity is not None and (self.users >= self.capacity)
        )

    @property
    def people(self) -> str:
        """How many are in, in words ("" when the record does not say)."""
        if self.users is None:
            return ""
        return f"full: {self.users} in the chat" if self.full else f"{self.users} in the chat"

    @property
    def web_url(self) -> str | None:
        """Where phones and browsers join this chat, if a gateway was announced with it."""
        return f"http://{self.address}:{self.web}/" if self.web else None

    @property
    def conversation(self) -> tuple[str, int, str, int]:
        return (self.address, self.port, self.group, self.group_port)

    def txt(self) -> dict[str, str]:
        """The TXT keys, as python-zeroconf's ``properties``."""
        keys = {
            "v": RECORD_VERSION,
            "group": self.group,
            "group-port": str(self.group_port),
            "name": self.title,
            "relay": self.relay.value,
        }
        if self.users is not None:
            keys["users"] = str(self.users)
        if self.web is not None:
            keys["web"] = str(self.web)
        if self.capacity is not None:
            keys["max"] = str(self.capacity)
        return keys

    def instance_name(self) -> str:
        """The DNS-SD instance: the title and where, so two servers never collide."""
        title = short_title(self.title) or "lanchat"
        return f"{title} ({self.address}:{self.port}).{SERVICE_TYPE}"


def is_lan_address(address: str) -> bool:
    """An IPv4 address on a network: not loopback, not link-local (169.254), not IPv6."""
    return not address.startswith(("127.", "169.254.")) and ":" not in address


def short_title(title: str) -> str:
    """``title`` cut to what fits a DNS label (whole characters), dots made safe."""
    cut = title.replace(".", "\u2024").encode()[: MAX_TITLE - 24]
    return cut.decode("utf-8", errors="ignore").strip()


def read_record(
    addresses: list[str], port: int | None, properties: dict[bytes, bytes | None]
) -> tuple[ChatRecord | None, str]:
    """A record from what a browser resolved; (None, why) when it cannot be used."""
    keys: dict[str, str] = {}
    for key, value in properties.items():
        try:
            keys[key.decode()] = (value or b"").decode()
        except UnicodeDecodeError:
            return None, "a TXT key is not UTF-8"
    ipv4 = [a for a in addresses if _is_ipv4(a)]
    if not ipv4:
        return None, "no IPv4 address"
    if not port or not 0 < port < 65536:
        return None, f"no usable port ({port})"
    group = keys.get("group", "")
    try:
        if not ipaddress.IPv4Address(group).is_multicast:
            return None, f"the group {group!r} is not a multicast address"
        group_port = int(keys.get("group-port", ""))
    except ValueError:
        return None, "no usable group or group port"
    if not 0 < group_port < 65536:
        return None, f"the group port {group_port} is out of range"
    relay = {s.value: s for s in RelayStyle}.get(keys.get("relay", ""), RelayStyle.UNKNOWN)
    users = keys.get("users", "")
    web = _count(keys.get("web", ""))
    web_port = web if web is not None and 0 < web < 65536 else None
    title = keys.get("name", "").strip() or f"a chat at {ipv4[0]}"
    return (
        ChatRecord(
            title[:200], ipv4[0], port, group, group_port, relay,
            _count(users), web_port, _count(keys.get("max", "")),
        ),
        "",
    )  # fmt: skip


def _count(text: str) -> int | None:
    """A count from a TXT value: ASCII digits only ("²".isdigit() is True, and int()
    refuses it), at most nine of them; else None."""
    return int(text) if text.isascii() and text.isdigit() and len(text) < 10 else None


def _is_ipv4(text: str) -> bool:
    try:
        ipaddress.IPv4Address(text)
    except ValueError:
        return False
    return True
