"""Command-line argument types shared by the server's and the client's CLIs.

Both programs take the same kinds of values (IPv4 addresses, multicast groups,
ports, user names) and must refuse bad ones the same way: one line on stderr
and exit status 2, never a usage dump or a traceback.  Not part of the
sans-I/O core; argparse only.
"""

from __future__ import annotations

import argparse
import ipaddress
import typing
from collections.abc import Callable

from .errors import LocalProtocolError
from .names import clean_name
from .net import is_multicast


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
