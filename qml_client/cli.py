"""Command-line options of the client, checked before any window opens."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field

from lanchat.options import (
    OneLineParser,
    add_network_options,
    add_server_address,
    add_server_options,
    burst_size,
    positive_float,
    ranged_int,
    user_name,
)
from protocol_lib import (
    DEFAULT_GROUP,
    DEFAULT_GROUP_PORT,
    DEFAULT_SERVER_PORT,
    RateLimit,
    __version__,
)
from protocol_lib.client_events import RelayStyle
from protocol_lib.io.net import ANY_INTERFACE

from .places import config_dir, data_dir

Conversation = tuple[str, int, str, int]
"""Server address and port, group and group port: one chat (``ClientOptions.conversation``)."""


@dataclass(frozen=True, slots=True)
class ClientOptions:
    """Where the server and the group are, and who logs in at start."""

    server: str = "127.0.0.1"
    port: int = DEFAULT_SERVER_PORT
    group: str = DEFAULT_GROUP
    group_port: int = DEFAULT_GROUP_PORT
    interface: str = ANY_INTERFACE
    user: str | None = None
    # Addresses besides ``server`` that the server multicasts from (see --server-source).
    server_sources: tuple[str, ...] = ()
    # The server's rate limit; the client paces itself a little under it.
    server_limit: RateLimit = field(default_factory=RateLimit)
    keep_history: bool = True  # every line kept in ~/.local/share/lanchat (--no-history: not)
    theme: str = "auto"  # "auto" follows the desktop's colour scheme; "light", "dark" force
    notify: bool = True  # a desktop notification for a line that names you (window inactive)
    alert: bool = True  # the window's urgency hint for new lines while it is inactive
    unread_line: bool = True  # an "unread" line above the first line that arrives while away
    # How the server relays chat lines, if known before it is heard (--relay, or
    # remembered for this conversation): senders are named from the first line.
    relay: RelayStyle = RelayStyle.UNKNOWN
    title: str = ""  # the chat's name from its record (Join), remembered for the next start
    web_url: str = ""  # a web gateway announced with the chat: "Invite phones" shows its QR
    find: float | None = None  # --find: list the chats announced here for this long, exit
    doctor: bool = False  # --doctor: say why nobody can be heard, exit
    host_chat: str | None = None  # --host-chat [TITLE]: host a chat at start ("": default title)

    @property
    def conversation(self) -> Conversation:
        """Which chat this is (the server and the group): what the history and the names
        that this account's windows hold are kept by."""
        return (self.server, self.port, self.group, self.group_port)


port_number = ranged_int(1, 65535, "port")


def given_options(argv: list[str] | None = None) -> set[str]:
    """The ClientOptions fields that ``argv`` sets explicitly (they win over remembered ones)."""
    given = vars(_parser(argparse.SUPPRESS).parse_args(argv))
    return {name for name, value in given.items() if value is not None}


def parse_options(argv: list[str] | None = None) -> ClientOptions:
    """Parse and validate ``argv``; exits with status 2 on a bad option."""
    args = _parser().parse_args(argv)
    return ClientOptions(
        server=args.server,
        port=args.port,
        group=args.group,
        group_port=args.group_port,
        interface=args.interface,
        user=args.user,
        server_sources=tuple(args.server_source),
        server_limit=RateLimit(args.server_burst, args.server_rate),
        keep_history=not args.no_history,
        theme=args.theme,
        notify=not args.no_notify,
        alert=not args.no_alert,
        unread_line=not args.no_unread_line,
        relay=RelayStyle(args.relay),
        find=args.find,
        doctor=args.doctor,
        host_chat=args.host_chat,
    )


def _parser(argument_default: object = None) -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="lanchat-client",
        description="Multiuser LAN chat client (PySide6/QML) for the login/msg/list/exit protocol.",
        epilog="In the window, type /help for the commands. The last server, group and name "
        f"are remembered ({config_dir() / 'settings.json'}); options given here win.",
        argument_default=argument_default,
    )
    add = parser.add_argument
    add_server_address(parser)
    add_network_options(parser, sends=False)
    add("--user", type=user_name, help="log in with this name at start")
    add(
        "--server-rate",
        type=positive_float,
        default=RateLimit().per_second,
        metavar="PER_SECOND",
        help="the server's rate limit in lines a second (default "
        f"{RateLimit().per_second:g}, our server's); the client sends a little slower",
    )
    add(
        "--server-burst",
        type=burst_size,
        default=RateLimit().burst,
        metavar="N",
        help=f"lines the server accepts at once (default {RateLimit().burst:g})",
    )
    add_server_options(parser, remembered=True)
    add(
        "--find",
        type=positive_float,
        nargs="?",
        const=2.0,
        metavar="SECONDS",
        help="list the chats announced on this network (mDNS/DNS-SD), each with the command "
        "that joins it, and exit (listens 2 s, or SECONDS)",
    )
    add(
        "--host-chat",
        nargs="?",
        const="",
        metavar="TITLE",
        help="host a chat at start, as the window's Host a chat button does: our server in "
        "this process on this machine's network address, announced (as TITLE), and joined",
    )
    add(
        "--doctor",
        action="store_true",
        help="find out why nobody can be heard in the chat these options name (give the "
        "same SERVER, --port, --group, --group-port and --interface as for joining): nothing "
        "listening, a firewall, another subnet, the wrong interface or group, another source "
        "address; says what to do and exits. It logs in for a moment as doctor-XXXX",
    )
    add(
        "--install-desktop-entry",
        action="store_true",
        help="put lanchat in the desktop's menu (Linux: a .desktop file and an icon under "
        "~/.local/share) and exit",
    )
    add(
        "--theme",
        choices=["auto", "light", "dark"],
        default="auto",
        help="colours: follow the desktop's scheme (auto, the default), or force one",
    )
    add(
        "--no-notify",
        action="store_true",
        help="no desktop notification when a line names you while the window is in the back",
    )
    add(
        "--no-alert",
        action="store_true",
        help="do not mark the window as wanting attention when lines arrive in the back",
    )
    add(
        "--no-unread-line",
        action="store_true",
        help="no 'unread' line above the first line that arrives while the window is away",
    )
    add(
        "--no-history",
        action="store_true",
        help="keep no history of the chat (by default every line is kept in "
        f"{data_dir() / 'history.sqlite3'}, and the last 200 are shown at start)",
    )
    add("--version", action="version", version=f"lanchat-client {__version__}")
    if argument_default is argparse.SUPPRESS:
        for action in parser._actions:  # defaults given explicitly above: suppress them too
            if action.dest == "server":  # a missing positional takes its default: None here
                action.default = None
            elif action.dest != "help":
                action.default = argparse.SUPPRESS
    return parser
