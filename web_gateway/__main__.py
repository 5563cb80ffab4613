"""``lanchat-web``: phones and browsers in the chat, through a web page this machine serves.

Works with any server of the protocol: each person on the page is a protocol client of
its own inside the gateway.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys

from lanchat.options import (
    OneLineParser,
    add_network_options,
    add_server_address,
    add_server_options,
    host_address,
    positive_float,
    ranged_int,
)
from protocol_lib import RateLimit, __version__
from protocol_lib.client_events import RelayStyle
from web_gateway import DEFAULT_HTTP_PORT
from web_gateway.limits import Limits

LIMITS = Limits()

INSTALL_HINT = "lanchat-web needs the web extra: pip install 'lanchat[web]'"


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="lanchat-web",
        description="Let phones and browsers into a LAN chat: serves a chat page over HTTP and "
        "WebSocket and speaks the login/msg/list/exit protocol to the chat's server for each "
        "person on it (any server of the protocol).",
        epilog="Phones open the address it prints (or scan its QR code); the computer's "
        "firewall must let them reach --http-port over TCP.",
    )
    add = parser.add_argument
    add_server_address(parser, "the chat server")
    add_network_options(parser, sends=False)
    add(
        "--http-host",
        type=host_address,
        default="0.0.0.0",
        metavar="HOST",
        help="address the page is served on (default 0.0.0.0: every network of this machine; "
        "127.0.0.1 keeps it to this machine)",
    )
    add(
        "--http-port",
        type=ranged_int(0, 65535, "HTTP port"),
        default=DEFAULT_HTTP_PORT,
        metavar="PORT",
        help=f"TCP port of the page (default {DEFAULT_HTTP_PORT}; 0 picks a free one)",
    )
    add_server_options(parser, remembered=False)
    add("--title", default="", help="the chat's name shown on the page (default: LAN chat)")
    add(
        "--max-users",
        type=ranged_int(1, 100_000, "users"),
        default=LIMITS.max_users,
        metavar="N",
        help=f"people on this gateway at once (default {LIMITS.max_users})",
    )
    add(
        "--per-address",
        type=ranged_int(1, 10_000, "connections"),
        default=LIMITS.per_address,
        metavar="N",
        help=f"open pages from one browser address at most (default {LIMITS.per_address})",
    )
    add(
        "--resume-within",
        type=positive_float,
        default=LIMITS.resume_within,
        metavar="SECONDS",
        help="how long a person stays in the chat after their page lost its connection, "
        f"waiting for it to come back (default {LIMITS.resume_within:g})",
    )
    add("--no-qr", action="store_true", help="do not print a QR code of the page's address")
    add("--quiet", "-q", action="store_true", help="print only the start and errors")
    add("--version", action="version", version=f"%(prog)s {__version__}")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        import aiohttp  # noqa: F401 (the extra's; its absence is said in one line)

        from .gateway import GatewayOptions
        from .runner import raise_open_files_limit, run
    except ImportError:
        print(INSTALL_HINT, file=sys.stderr)
        return 1
    logging.basicConfig(
        level=logging.WARNING if args.quiet else logging.INFO,
        format="%(asctime)s %(message)s",
        datefmt="%Y-%m-%d %H:%M:%S",
        stream=sys.stdout,
    )
    options = GatewayOptions(
        server=args.server,
        port=args.port,
        group=args.group,
        group_port=args.group_port,
        interface=args.interface,
        http_host=args.http_host,
        http_port=args.http_port,
        relay_style=RelayStyle(args.relay),
        server_source=tuple(args.server_source),
        title=args.title.strip(),
        limits=Limits(
            max_users=args.max_users,
            per_address=args.per_address,
            resume_within=args.resume_within,
            frames=RateLimit(burst=20.0, per_second=8.0),
        ),
    )
    raise_open_files_limit()
    try:
        return run(_serve(options, not args.no_qr))
    except KeyboardInterrupt:
        return 0


async def _serve(options, qr: bool) -> int:  # type: ignore[no-untyped-def]
    from .gateway import Gateway
    from .runner import page_urls, say_where

    gateway = Gateway(options)
    try:
        await gateway.start()
    except OSError as exc:  # GatewayError says which part could not start
        print(f"lanchat-web: {exc}", file=sys.stderr)
        return 1
    stop = asyncio.Event()  # before saying where: whoever reads that may stop us at once
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, AttributeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
    port = gateway.port
    print(
        f"lanchat-web: the chat at {options.server}:{options.port} "
        f"(group {options.group}:{options.group_port})",
        flush=True,
    )
    urls = page_urls(options.http_host, port)
    say_where(urls, qr=qr and not all("//127." in url for url in urls))
    if all("//127." in url for url in urls):
        print("Only this computer can open it (--http-host is a loopback address).")
    print(
        f"Allow TCP port {port} in this computer's firewall if phones cannot open it. "
        "A lanchat-server lets 32 people in from one address: start it with "
        f"--gateway {gateway.source_address} to let more in through this page. Ctrl+C stops.",
        flush=True,
    )
    try:
        await stop.wait()
    finally:
        print("lanchat-web: stopping; everyone on the page leaves the chat", flush=True)
        await gateway.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
