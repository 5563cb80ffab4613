"""protocol_lib: the LAN multicast chat protocol, without sockets.

Import it from any tool: a server, a client, a bot, a packet dissector.  It
owns every wire rule once (``wire``, ``names``), the per-user session state
machine (``session``), and the sans-I/O logic of both ends (``server``,
``client``): you feed it bytes, addresses and the current time, it hands back
datagrams to send and events to show or log.

The server's names are imported when first used (PEP 562): a client never
loads the server, the federation and their tables (16 ms of a window's start).
"""

from typing import TYPE_CHECKING

from .client import ClientConfig, ClientCore
from .client_events import (
    ClientEvent,
    ClientState,
    DeliveryFailed,
    IncomingMessage,
    LocalError,
    MessageDelivered,
    Notice,
    OutgoingMessage,
    RosterChanged,
    SendDatagram,
    SessionEnded,
    StateChanged,
    UnrecognisedLine,
    UserJoined,
    UserLeft,
)
from .errors import LocalProtocolError, ProtocolError, RemoteProtocolError
from .limits import MAX_DATAGRAM_BYTES, MAX_NAME_CHARS
from .names import canonical_name, clean_name, name_problem
from .ratelimit import RateLimit, RateLimiter
from .reasons import REASONS, Reason
from .session import Rejection, Session, SessionEvent, SessionState
from .wire import (
    Bye,
    ChatMessage,
    ChatRelay,
    ClientMessage,
    ExitRequest,
    ListRequest,
    LoginRequest,
    ServerMessage,
    UserList,
    Welcome,
    parse_client,
    parse_server,
    text_problem,
)

if TYPE_CHECKING:
    from .server import ListReplyMode, ServerConfig, ServerCore
    from .server_events import (
        RejectionsSummarised,
        RequestArrived,
        RequestRejected,
        SendToAddress,
        SendToGroup,
        ServerAction,
    )

_SERVER_NAMES = frozenset(
    {
        "ListReplyMode",
        "RejectionsSummarised",
        "RequestArrived",
        "RequestRejected",
        "SendToAddress",
        "SendToGroup",
        "ServerAction",
        "ServerConfig",
        "ServerCore",
    }
)


def __getattr__(name: str) -> object:
    """The server's names, imported on first use (and then kept as module attributes)."""
    if name in _SERVER_NAMES:
        from . import server

        value = getattr(server, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'protocol_lib' has no attribute {name!r}")


DEFAULT_SERVER_PORT = 4321
DEFAULT_GROUP = "224.1.1.1"
DEFAULT_GROUP_PORT = 2241
DEFAULT_TTL = 1
ANY_INTERFACE = "0.0.0.0"  # the group joined (or sent from) where the OS's routes say

__version__ = "0.1.0"

__all__ = [
    "ClientConfig",
    "ClientCore",
    "ClientEvent",
    "ClientState",
    "DeliveryFailed",
    "IncomingMessage",
    "LocalError",
    "MessageDelivered",
    "Notice",
    "SessionEnded",
    "OutgoingMessage",
    "RosterChanged",
    "SendDatagram",
    "StateChanged",
    "UnrecognisedLine",
    "UserJoined",
    "UserLeft",
    "ListReplyMode",
    "RejectionsSummarised",
    "RequestArrived",
    "RequestRejected",
    "SendToAddress",
    "SendToGroup",
    "ServerAction",
    "ServerConfig",
    "ServerCore",
    "MAX_DATAGRAM_BYTES",
    "REASONS",
    "Reason",
    "Bye",
    "ChatMessage",
    "ChatRelay",
    "ClientMessage",
    "ExitRequest",
    "ListRequest",
    "LoginRequest",
    "ServerMessage",
    "UserList",
    "Welcome",
    "parse_client",
    "parse_server",
    "text_problem",
    "LocalProtocolError",
    "ProtocolError",
    "RemoteProtocolError",
    "MAX_NAME_CHARS",
    "canonical_name",
    "clean_name",
    "name_problem",
    "RateLimit",
    "RateLimiter",
    "Rejection",
    "Session",
    "SessionEvent",
    "SessionState",
    "DEFAULT_SERVER_PORT",
    "DEFAULT_GROUP",
    "DEFAULT_GROUP_PORT",
    "DEFAULT_TTL",
    "__version__",
]
