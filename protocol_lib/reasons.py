"""Every reason code of the project, once: why a datagram, a line or a login was refused.

Codes are stable strings (a ``StrEnum``: ``Reason.NAME_TAKEN == "name-taken"``),
so a server counts and logs rejections by cause, a GUI picks its own wording,
and a script can match them.  ``REASONS`` gives each a sentence a person can
read; a test checks that no code is without one.
"""

from __future__ import annotations

from enum import StrEnum

from .limits import MAX_DATAGRAM_BYTES, MAX_NAME_CHARS


class Reason(StrEnum):
    """Why something was not done; the value is what logs and tools see."""

    # The datagram itself (wire.py)
    TOO_LONG = "too-long"
    NOT_UTF8 = "not-utf8"
    EMPTY = "empty"
    NO_COMMA = "no-comma"
    NO_TYPE = "no-type"
    UNKNOWN_TYPE = "unknown-type"
    LIST_NOT_NAMES = "list-not-names"
    # Chat text (wire.py)
    TEXT_EMPTY = "text-empty"
    TEXT_WHITESPACE = "text-whitespace"
    TEXT_CONTROL = "text-control"
    # User names (names.py)
    NAME_EMPTY = "name-empty"
    NAME_WHITESPACE = "name-whitespace"
    NAME_TOO_LONG = "name-too-long"
    NAME_COMMA = "name-comma"
    NAME_COLON = "name-colon"
    NAME_CONTROL = "name-control"
    NAME_BIDI = "name-bidi"
    NAME_INVISIBLE = "name-invisible"
    NAME_COMBINING = "name-combining"
    # The server's decisions (server.py, session.py)
    RATE_LIMITED = "rate-limited"
    HOST_BUDGET = "host-budget"
    NOT_LOGGED_IN = "not-logged-in"
    ALREADY_LOGGED_IN = "already-logged-in"
    NAME_TAKEN = "name-taken"
    HOST_SESSIONS_FULL = "host-sessions-full"
    SERVER_FULL = "server-full"
    LIST_BUDGET = "list-budget"
    RELAY_TOO_LONG = "relay-too-long"
    # Federation (federation.py)
    FEDERATION_EVENT = "federation-event"
    # The client's (client.py, commands.py)
    USAGE = "usage"
    UNKNOWN_COMMAND = "unknown-command"
    QUEUE_FULL = "queue-full"
    NOT_SENT = "not-sent"
    NO_WELCOME = "no-welcome"
    NOT_RELAYED = "not-relayed"
    SERVER_SILENT = "server-silent"


REASONS: dict[Reason, str] = {
    Reason.TOO_LONG: f"the datagram is longer than {MAX_DATAGRAM_BYTES} bytes",
    Reason.NOT_UTF8: "the datagram is not valid UTF-8",
    Reason.EMPTY: "the datagram is empty",
    Reason.NO_COMMA: "the datagram has no comma after its type",
    Reason.NO_TYPE: "the datagram has no type before its comma",
    Reason.UNKNOWN_TYPE: "the datagram's type is not one of this protocol's",
    Reason.LIST_NOT_NAMES: "the list reply is not a comma-separated list of names",
    Reason.TEXT_EMPTY: "the message is empty",
    Reason.TEXT_WHITESPACE: "the message starts or ends with blanks",
    Reason.TEXT_CONTROL: "the message contains a control or line-break character",
    Reason.NAME_EMPTY: "the name is empty",
    Reason.NAME_WHITESPACE: "the name starts or ends with blanks",
    Reason.NAME_TOO_LONG: f"the name is longer than {MAX_NAME_CHARS} characters",
    Reason.NAME_COMMA: "the name contains a comma",
    Reason.NAME_COLON: "the name contains a colon",
    Reason.NAME_CONTROL: "the name contains a control or line-break character",
    Reason.NAME_BIDI: "the name contains a character that reorders text (a bidirectional control)",
    Reason.NAME_INVISIBLE: "the name contains an invisible character (zero-width, format or blank)",
    Reason.NAME_COMBINING: "the name has a combining mark with no letter under it, or a tall stack",
    Reason.RATE_LIMITED: "the sender is over its rate limit",
    Reason.HOST_BUDGET: "the sender's host is over the budget its ports without a session share",
    Reason.NOT_LOGGED_IN: "the sender is not logged in",
    Reason.ALREADY_LOGGED_IN: "the sender is logged in under another name; exit first",
    Reason.NAME_TAKEN: "the name, or one that looks the same, is in use",
    Reason.HOST_SESSIONS_FULL: "the sender's host has as many sessions as it may",
    Reason.SERVER_FULL: "the chat has as many users as it may",
    Reason.LIST_BUDGET: "the sender's host has asked for the list too often",
    Reason.RELAY_TOO_LONG: "the message with the sender's name would not fit one datagram",
    Reason.FEDERATION_EVENT: "an event from another site is malformed",
    Reason.USAGE: "the command is missing something",
    Reason.UNKNOWN_COMMAND: "there is no such command",
    Reason.QUEUE_FULL: "too many lines are waiting to go out",
    Reason.NOT_SENT: "the line was never sent",
    Reason.NO_WELCOME: "the server did not welcome the login",
    Reason.NOT_RELAYED: "the server relays others but did not relay the line",
    Reason.SERVER_SILENT: "nothing has come from the server for a while",
}
"""Reason -> a sentence a person can read."""
