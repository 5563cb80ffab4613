"""Command-line options of the server, checked before any socket is opened.

Bad options end with one line on stderr and exit status 2 (argparse's
convention), so an instructor sees what to fix instead of a traceback.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from enum import IntEnum

from lanchat.options import (
    OneLineParser,
    add_network_options,
    burst_size,
    host_address,
    ipv4,
    positive_float,
    ranged_int,
)
from protocol_lib import (
    DEFAULT_SERVER_PORT,
    DEFAULT_TTL,
    ListReplyMode,
    RateLimit,
    ServerConfig,
    __version__,
)
from protocol_lib.federation import DEFAULT_SITE_TIMEOUT, site_problem

from .federation import FederationOptions


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
    federation: FederationOptions | None = None  # None: this LAN alone, nats-py not imported
    stop_with_stdin: bool = False  # stop (byes said) when standard input ends: a launcher's child
    title: str = ""  # the chat's name in its DNS-SD record ("" : "lanchat on HOST")
    advertise: bool = True  # a DNS-SD record where it serves (off: --no-advertise, loopback)
    metrics: tuple[str, int] | None = None  # --metrics HOST:PORT: Prometheus' /metrics there
    # --web [HOST:]PORT: a web gateway in this process (phones and browsers); HOST "" is
    # the server's own --host.
    web: tuple[str, int] | None = None


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
        type=listen_address,
        default="0.0.0.0",
        help="address or host name to listen on (default 0.0.0.0; the chat's name that "
        "people see is --title)",
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
        "--gateway",
        type=ipv4,
        action="append",
        default=[],
        metavar="IP",
        help="the address of a web gateway (lanchat-web) that brings browsers and phones "
        "in: its users are not held to --max-sessions-per-host (the gateway limits each "
        "browser address itself); repeat for several",
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
    add(
        "--title",
        default="",
        metavar="TEXT",
        help="the chat's name that clients see when they look for chats on the network "
        "(default: lanchat on <this host's name>)",
    )
    add(
        "--no-advertise",
        action="store_true",
        help="do not announce the chat with mDNS/DNS-SD (by default it is announced on the "
        "addresses it listens on, except loopback; clients then find it without an address)",
    )
    add(
        "--log-file",
        metavar="PATH",
        help="also append the log lines to this file (SIGHUP reopens it: logrotate's way)",
    )
    add(
        "--metrics",
        type=host_and_port,
        metavar="HOST:PORT",
        help="serve numbers an admin can watch (users, lines, refusals, federation) in "
        "Prometheus' format at http://HOST:PORT/metrics; off by default (needs the metrics "
        "extra: prometheus-client)",
    )
    add(
        "--web",
        type=web_address,
        metavar="[HOST:]PORT",
        help="also serve the chat's web page for phones and browsers on this TCP port "
        "(HOST: where, default the server's --host), announced with the chat; needs the web "
        "extra (aiohttp, segno). lanchat-web does the same for any server",
    )
    add(
        "--print-systemd-unit",
        action="store_true",
        help="print a systemd unit that runs this lanchat-server as a sandboxed service "
        "(save it as /etc/systemd/system/lanchat-server.service) and exit",
    )
    add(
        "--stop-with-stdin",
        action="store_true",
        help="stop (saying bye for everyone) when standard input ends: a program that starts "
        "the server keeps a pipe open, and the server goes when it does, killed or not",
    )
    verbosity = parser.add_mutually_exclusive_group()
    verbosity.add_argument(
        "--quiet", "-q", action="store_true", help="print only start, stop and errors"
    )
    verbosity.add_argument(
        "--verbose", "-v", action="store_true", help="also print every datagram sent"
    )
    _add_federation_options(parser)
    add("--version", action="version", version=f"lanchat-server {__version__}")
    return parser


def broker_url(text: str) -> list[str]:
    """One or more comma-separated NATS URLs (nats:// or tls://, with a port)."""
    urls = [part.strip() for part in text.split(",") if part.strip()]
    for url in urls:
        scheme, sep, rest = url.partition("://")
        if not sep or scheme not in ("nats", "tls") or not rest:
            raise argparse.ArgumentTypeError(f"{url!r} is not a nats:// or tls:// URL")
    if not urls:
        raise argparse.ArgumentTypeError("no URL given")
    return urls


def readable_file(text: str) -> str:
    """A credentials or certificate file: said at start, not found out on each reconnect."""
    try:
        with open(text, "rb"):
            return text
    except OSError as exc:
        raise argparse.ArgumentTypeError(f"cannot read {text!r}: {exc.strerror or exc}") from None


def secret_file(text: str) -> str:
    """--federation-password-file, --federation-token-file: the secret is the file's first
    line (a secret on the command line shows in ``ps`` and in a unit's environment)."""
    try:
        with open(text, encoding="utf-8") as file:
            secret = file.readline().rstrip("\r\n")
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise argparse.ArgumentTypeError(f"cannot read {text!r}: {why or exc}") from None
    if not secret:
        raise argparse.ArgumentTypeError(f"{text!r}: its first line is empty")
    return secret


def site_name(text: str) -> str:
    problem = site_problem(text)
    if problem is not None:
        raise argparse.ArgumentTypeError(f"{text!r}: {problem}")
    return text


def _add_federation_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "federation",
        "join other sites' servers into one chat through a NATS JetStream broker "
        "(needs the 'federation' extra: pip install 'lanchat[federation]')",
    )
    add = group.add_argument
    add(
        "--federation",
        type=broker_url,
        action="append",
        metavar="URL",
        help="the broker, e.g. nats://10.0.0.2:4222; repeat or comma-separate for a cluster",
    )
    add("--site", type=site_name, help="this site's name in the federation (e.g. labA)")
    add(
        "--site-timeout",
        type=positive_float,
        default=DEFAULT_SITE_TIMEOUT,
        metavar="SECONDS",
        help="a site silent this long is gone and its users leave "
        f"(default {DEFAULT_SITE_TIMEOUT:g})",
    )
    add(
        "--federation-replicas",
        type=ranged_int(1, 5, "replicas"),
        default=1,
        metavar="N",
        help="copies of the events and names the broker keeps (3 on a 3-node cluster)",
    )
    add("--federation-user", metavar="USER", help="broker user")
    for secret in ("password", "token"):
        add(f"--federation-{secret}", metavar=secret.upper(), help=f"broker {secret} (ps shows it)")
        add(
            f"--federation-{secret}-file",
            type=secret_file,
            metavar="FILE",
            help=f"broker {secret}: the file's first line (kept out of ps)",
        )
    add(
        "--federation-creds",
        type=readable_file,
        metavar="FILE",
        help="broker credentials file (JWT and nkey)",
    )
    add(
        "--federation-tls-ca",
        type=readable_file,
        metavar="FILE",
        help="CA certificate to verify the broker",
    )
    add(
        "--federation-tls-cert",
        type=readable_file,
        metavar="FILE",
        help="client certificate for the broker",
    )
    add("--federation-tls-key", type=readable_file, metavar="FILE", help="client certificate's key")


def _federation_options(
    parser: argparse.ArgumentParser, args: argparse.Namespace
) -> FederationOptions | None:
    if not args.federation:
        if args.site:
            parser.error("--site needs --federation")
        return None
    if not args.site:
        parser.error("--federation needs --site NAME (this site's name, e.g. labA)")
    for secret in ("password", "token"):
        if getattr(args, f"federation_{secret}") and getattr(args, f"federation_{secret}_file"):
            parser.error(f"--federation-{secret} and --federation-{secret}-file: give one")
    return FederationOptions(
        servers=tuple(url for urls in args.federation for url in urls),
        site=args.site,
        site_timeout=args.site_timeout,
        replicas=args.federation_replicas,
        user=args.federation_user,
        password=args.federation_password_file or args.federation_password,
        token=args.federation_token_file or args.federation_token,
        creds=args.federation_creds,
        tls_ca=args.federation_tls_ca,
        tls_cert=args.federation_tls_cert,
        tls_key=args.federation_tls_key,
    )


def listen_address(text: str) -> str:
    """--host: where to listen; a name with spaces is a title given to the wrong option
    (``lanchat --host TITLE`` hosts a chat; the server names it with --title)."""
    try:
        return host_address(text)
    except argparse.ArgumentTypeError as exc:
        if " " in text.strip():
            raise argparse.ArgumentTypeError(
                f"{exc}: --host is the address to listen on; to name the chat use --title"
            ) from None
        raise


def host_and_port(text: str) -> tuple[str, int]:
    """``HOST:PORT`` for --metrics (HOST an IPv4 address or name; PORT 0 lets the OS pick)."""
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise argparse.ArgumentTypeError(f"not HOST:PORT: {text!r} (e.g. 127.0.0.1:9421)")
    return host_address(host), int(port)


def web_address(text: str) -> tuple[str, int]:
    """``PORT``, ``:PORT`` or ``HOST:PORT`` for --web (HOST "" stands for the server's
    --host)."""
    host, _, port = text.rpartition(":")
    if not port.isdigit() or not 0 <= int(port) <= 65535:
        raise argparse.ArgumentTypeError(
            f"not a TCP port: {port!r} in {text!r} (0-65535; e.g. --web 8421)"
        )
    return (host_address(host) if host else ""), int(port)


def gateway_source(host: str) -> str:
    """The address a gateway in the server's own process sends from: it talks to the
    server where it listens (loopback for 0.0.0.0), and the kernel sends from there."""
    return "127.0.0.1" if host == "0.0.0.0" else host


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
            gateway_hosts=frozenset(args.gateway)
            | ({gateway_source(args.host)} if args.web else set()),
            list_budget=RateLimit(ServerConfig().list_budget.burst, args.list_budget),
        ),
        log_file=args.log_file,
        stop_with_stdin=args.stop_with_stdin,
        title=args.title.strip(),
        advertise=not args.no_advertise,
        metrics=args.metrics,
        web=args.web,
        federation=_federation_options(parser, args),
        verbosity=(
            Verbosity.QUIET
            if args.quiet
            else Verbosity.VERBOSE
            if args.verbose
            else Verbosity.NORMAL
        ),
    )
