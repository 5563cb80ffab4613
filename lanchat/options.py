"""Command-line options shared by the programs' CLIs (the server, the window, the page,
the example bot): here, beside the launcher, and not in protocol_lib, whose core and I/O
know nothing of command lines (issue 39, point 8).

They take the same kinds of values (IPv4 addresses, host names,
multicast groups, ports, user names) and the same network options, and must
refuse bad ones the same way: one line on stderr and exit status 2, never a
usage dump or a traceback.
"""

from __future__ import annotations

import argparse
import ipaddress
import socket
import typing
from collections.abc import Callable

from protocol_lib import ANY_INTERFACE, DEFAULT_GROUP, DEFAULT_GROUP_PORT
from protocol_lib.errors import LocalProtocolError
from protocol_lib.io.net import is_multicast
from protocol_lib.names import clean_name


class OneLineParser(argparse.ArgumentParser):
    """An option error is one line (not the whole usage), then exit status 2."""

    def error(self, message: str) -> typing.NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def ipv4(text: str) -> str:
    """An IPv4 address in dotted form (``localhost`` means 127.0.0.1)."""
    if text == "localhost":
        return "127.0.0.1"
    try:
        return str(ipaddress.IPv4Address(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an IPv4 address: {text!r}") from None


def host_address(text: str) -> str:
    """An IPv4 address, or a host name resolved once, now, to its IPv4 address."""
    try:
        return ipv4(text)
    except argparse.ArgumentTypeError:
        pass
    try:
        return socket.gethostbyname(text)
    except (OSError, UnicodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc) or "no address"
        raise argparse.ArgumentTypeError(f"cannot resolve {text!r}: {reason}") from None


def multicast_group(text: str) -> str:
    """An IPv4 multicast address (224.0.0.0/4)."""
    address = ipv4(text)
    if not is_multicast(address):
        raise argparse.ArgumentTypeError(f"not a multicast group (224.0.0.0/4): {text!r}")
    return address


def ranged_int(low: int, high: int, what: str) -> Callable[[str], int]:
    """A whole number in ``low..high``, named ``what`` in the error."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{what} must be a whole number: {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{what} must be {low}..{high}: {value}")
        return value

    return parse


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be greater than 0: {text!r}")
    return value


def burst_size(text: str) -> float:
    """How many datagrams a rate limit lets through at once: at least 1."""
    value = positive_float(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text!r}")
    return value


def user_name(text: str) -> str:
    """A user name by protocol_lib's rules (surrounding blanks forgiven)."""
    try:
        return clean_name(text)
    except LocalProtocolError as exc:
        raise argparse.ArgumentTypeError(exc.detail) from None


def add_server_address(parser: argparse.ArgumentParser, what: str = "the server") -> None:
    """``SERVER`` and ``--port``: where a client sends (the window, the web gateway)."""
    from protocol_lib import DEFAULT_SERVER_PORT

    parser.add_argument(
        "server",
        nargs="?",
        type=host_address,
        default="127.0.0.1",
        help=f"{what}'s IPv4 address or host name (default 127.0.0.1)",
    )
    parser.add_argument(
        "--port",
        type=ranged_int(1, 65535, "port"),
        default=DEFAULT_SERVER_PORT,
        help=f"{what}'s UDP port (default {DEFAULT_SERVER_PORT})",
    )


def add_network_options(parser: argparse.ArgumentParser, sends: bool) -> None:
    """``--group``, ``--group-port`` and ``--interface``, the same for both programs.

    ``sends``: this program sends to the group (the server) rather than joins it.
    """
    role = "send to" if sends else "join"
    add = parser.add_argument
    add(
        "--group",
        type=multicast_group,
        default=DEFAULT_GROUP,
        help=f"multicast group to {role} (default {DEFAULT_GROUP})",
    )
    add(
        "--group-port",
        type=ranged_int(1, 65535, "group port"),
        default=DEFAULT_GROUP_PORT,
        help=f"port of the multicast group (default {DEFAULT_GROUP_PORT})",
    )
    add(
        "--interface",
        type=ipv4,
        default=ANY_INTERFACE,
        metavar="IP",
        help=f"IPv4 address of the interface to {'send multicast' if sends else 'join the group'} "
        "on (default: the OS's choice)",
    )


def add_server_options(parser: argparse.ArgumentParser, remembered: bool) -> None:
    """``--server-source`` and ``--relay``: what a client may be told about the server, the
    same for the window and the web gateway. ``remembered``: the program keeps a relay
    style learned for the next start (the window does)."""
    from protocol_lib.client_events import RelayStyle

    add = parser.add_argument
    add(
        "--server-source",
        type=ipv4,
        action="append",
        default=[],
        metavar="IP",
        help="another address the server multicasts from (repeatable); group datagrams "
        "from any address but the server's are shown marked and never believed",
    )
    add(
        "--relay",
        choices=[RelayStyle.ATTRIBUTED.value, RelayStyle.PLAIN.value],
        default=RelayStyle.UNKNOWN.value,
        help="how the server relays lines, if you know: attributed (msg,<user>: <text>, as "
        "lanchat-server does) names senders from the first line; plain (msg,<text>, the "
        "spec's) never does. Otherwise learned from the echo of your first line"
        + (", and remembered for this server" if remembered else "")
        + "; what the server does always wins",
    )
