"""Command-line options of the server, checked before any socket is opened.

Bad options end with one line on stderr and exit status 2 (argparse's
convention), so an instructor sees what to fix instead of a traceback.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from enum import IntEnum

from protocol_lib import (
    DEFAULT_SERVER_PORT,
    DEFAULT_TTL,
    ListReplyMode,
    RateLimit,
    ServerConfig,
    __version__,
)
from protocol_lib.io.options import (
    OneLineParser,
    add_network_options,
    burst_size,
    host_address,
    positive_float,
    ranged_int,
)


class Verbosity(IntEnum):
    """How much the server prints; each level includes the ones below."""

    QUIET = 0  # start, stop and errors
    NORMAL = 1  # + the spec's line per request, rejections
    VERBOSE = 2  # + every datagram sent


@dataclass(frozen=True, slots=True)
class ServerOptions:
    """Everything the socket loop needs, validated."""

    host: str
    port: int
    group: str
    group_port: int
    ttl: int
    interface: str
    loop: bool
    config: ServerConfig  # for the ServerCore
    log_file: str | None
    verbosity: Verbosity


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="lanchat-server",
        description=(
            "Multiuser LAN chat server: receives login/msg/list/exit datagrams by unicast UDP "
            "and sends welcome/msg/bye/list to everyone over an IPv4 multicast group."
        ),
        epilog=(
            "Defaults are the assignment's, so any client of this protocol works with it. "
            "On a machine with a VPN, Docker or several network cards, pass --interface "
            "with this machine's LAN address."
        ),
    )
    add = parser.add_argument
    add(
        "--host",
        type=host_address,
        default="0.0.0.0",
        help="address or host name to listen on (default 0.0.0.0)",
    )
    add(
        "--port",
        type=ranged_int(0, 65535, "port"),
        default=DEFAULT_SERVER_PORT,
        help=f"UDP port to listen on (default {DEFAULT_SERVER_PORT}; 0 picks a free one)",
    )
    add_network_options(parser, sends=True)
    add(
        "--ttl",
        type=ranged_int(0, 255, "TTL"),
        default=DEFAULT_TTL,
        help="multicast TTL (default 1: this subnet only)",
    )
    add(
        "--no-loop",
        dest="loop",
        action="store_false",
        help="do not loop multicast back to clients on this host",
    )
    add(
        "--list-reply",
        choices=[m.value for m in ListReplyMode],
        default="group",
        help="where list replies go: the group (default, as the spec), the asker, or both",
    )
    add(
        "--rate",
        type=positive_float,
        default=RateLimit().per_second,
        metavar="PER_SECOND",
        help=f"datagrams a second per client after a burst (default {RateLimit().per_second:g})",
    )
    add(
        "--burst",
        type=burst_size,
        default=RateLimit().burst,
        metavar="N",
        help=f"datagrams a client may send at once (default {RateLimit().burst:g})",
    )
    add("--no-rate-limit", action="store_true", help="accept every datagram (benchmarks)")
    defaults = ServerConfig()
    add(
        "--max-sessions-per-host",
        type=ranged_int(1, 1_000_000, "sessions per host"),
        default=defaults.max_sessions_per_host,
        metavar="N",
        help="users logged in from one IP address at most (default "
        f"{defaults.max_sessions_per_host}; raise it for a terminal server)",
    )
    add(
        "--max-sessions",
        type=ranged_int(1, 10_000_000, "sessions"),
        default=defaults.max_sessions,
        metavar="N",
        help=f"users in the chat at most (default {defaults.max_sessions})",
    )
    add(
        "--list-budget",
        type=positive_float,
        default=defaults.list_budget.per_second,
        metavar="BYTES_PER_SECOND",
        help="bytes of list replies one host's requests may cause per second, after a "
        f"burst of {defaults.list_budget.burst:,.0f} (default "
        f"{defaults.list_budget.per_second:,.0f})",
    )
    add("--log-file", metavar="PATH", help="also append the log lines to this file")
    verbosity = parser.add_mutually_exclusive_group()
    verbosity.add_argument(
        "--quiet", "-q", action="store_true", help="print only start, stop and errors"
    )
    verbosity.add_argument(
        "--verbose", "-v", action="store_true", help="also print every datagram sent"
    )
    add("--version", action="version", version=f"lanchat-server {__version__}")
    return parser


def parse_options(argv: list[str] | None = None) -> ServerOptions:
    """Parse and validate ``argv``; exits with status 2 on a bad option."""
    parser = build_parser()
    args = parser.parse_args(argv)
    rate_limit = None if args.no_rate_limit else RateLimit(args.burst, args.rate)
    return ServerOptions(
        host=args.host,
        port=args.port,
        group=args.group,
        group_port=args.group_port,
        ttl=args.ttl,
        interface=args.interface,
        loop=args.loop,
        config=ServerConfig(
            list_reply=ListReplyMode(args.list_reply),
            rate_limit=rate_limit,
            max_sessions_per_host=args.max_sessions_per_host,
            max_sessions=args.max_sessions,
            list_budget=RateLimit(ServerConfig().list_budget.burst, args.list_budget),
        ),
        log_file=args.log_file,
        verbosity=(
            Verbosity.QUIET
            if args.quiet
            else Verbosity.VERBOSE
            if args.verbose
            else Verbosity.NORMAL
        ),
    )
