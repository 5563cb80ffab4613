"""``lanchat-server --web`` and the host button: a web gateway in the server's process.

The gateway (``web_gateway``, the ``web`` extra) talks to this server like any client,
one socket per person, from the address ``cli.gateway_source`` names; the server counts
that address as a gateway (not held to --max-sessions-per-host) and announces the
gateway's port with the chat, so windows can offer "Invite phones"."""

from __future__ import annotations

from typing import TYPE_CHECKING

from protocol_lib.client_events import RelayStyle
from web_gateway import DEFAULT_HTTP_PORT

from .cli import ServerOptions, gateway_source

if TYPE_CHECKING:
    from web_gateway.runner import GatewayThread

__all__ = ["DEFAULT_HTTP_PORT", "start_web", "web_port", "web_urls"]
INSTALL_HINT = "--web needs the web extra: pip install 'lanchat[web]'"


def start_web(options: ServerOptions, port: int) -> tuple[GatewayThread | None, str]:
    """The gateway for the server on ``port``, serving; or None and why not, in words."""
    assert options.web is not None
    try:
        from web_gateway.gateway import GatewayOptions
        from web_gateway.runner import GatewayThread
    except ImportError:
        return None, INSTALL_HINT
    http_host = options.web[0] or options.host
    gateway = GatewayThread(
        GatewayOptions(
            server=gateway_source(options.host),
            port=port,
            group=options.group,
            group_port=options.group_port,
            interface=options.interface,
            http_host=http_host,
            http_port=options.web[1],
            relay_style=RelayStyle.ATTRIBUTED,
            title=options.title,
            capacity=options.config.max_sessions,
        )
    )
    try:
        gateway.start()
    except (OSError, TimeoutError) as exc:  # GatewayError says which part
        return None, f"--web: {exc}"
    return gateway, ""


def web_port(gateway: GatewayThread | None) -> int | None:
    """The TCP port the gateway's page is on (for the chat's record)."""
    if gateway is None:
        return None
    return gateway.gateway.port


def web_urls(options: ServerOptions, gateway: GatewayThread) -> list[str]:
    """The page's addresses to print: each LAN address when it serves on all of them."""
    from web_gateway.runner import page_urls

    port = web_port(gateway) or 0
    return page_urls(options.web[0] or options.host if options.web else options.host, port)
