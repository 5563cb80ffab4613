"""What the client does in a terminal, without a window (no Qt).

``--find``: browses DNS-SD (``_lanchat._udp``) on every LAN address for a few seconds and
prints each chat found with the command line that joins it.  Servers that do not announce
themselves (other people's) are not listed: type their address as before.

``--doctor``: probes the chat the options name (a login for a moment as ``doctor-XXXX``,
which everyone sees join and leave) and prints why nobody can be heard, if something
explains it, with what to do on this OS (``protocol_lib.doctor``).
"""

from __future__ import annotations

import secrets
import sys
import textwrap
import threading
import time

from protocol_lib.client_events import RelayStyle
from protocol_lib.discovery import ChatRecord
from protocol_lib.display import shown_text
from protocol_lib.doctor import diagnose
from protocol_lib.io.discovery import Browser
from protocol_lib.io.doctor import probe

from .cli import ClientOptions

FIND_SECONDS = 2.0  # how long --find listens: a record answers within about a second


def describe(record: ChatRecord) -> str:
    """One chat as lines for a terminal (its title is foreign text: shown safely)."""
    users = f", {record.people}" if record.people else ""
    relay = f" --relay {record.relay.value}" if record.relay is not RelayStyle.UNKNOWN else ""
    return (
        f"  {shown_text(record.title)}: {record.address}:{record.port}, group "
        f"{record.group}:{record.group_port}{users}\n"
        f"    lanchat-client {record.address} --port {record.port} --group {record.group} "
        f"--group-port {record.group_port}{relay}"
    )


def find(seconds: float = FIND_SECONDS, interfaces: list[str] | None = None) -> int:
    """Print what is found within ``seconds``; 0 if a chat was found, 1 if none, 2 on error."""
    changed = threading.Event()
    browser = Browser(lambda records: changed.set(), interfaces)
    started = time.monotonic()
    problem = browser.start()
    if problem is not None:
        print(f"lanchat-client: {problem}")
        return 2
    try:
        first_at = None
        deadline = started + seconds
        while (left := deadline - time.monotonic()) > 0:
            if changed.wait(left) and first_at is None and browser.found():
                first_at = time.monotonic() - started
            changed.clear()
        records = browser.found()
    finally:
        browser.close()
    if not records:
        print(
            f"No chat announced on this network within {seconds:g} s. A server started with "
            "--no-advertise, or someone else's, is not announced: type its address."
        )
        return 1
    print(f"Chats on this network (the first found after {first_at or 0:.1f} s):")
    for record in records:
        print(describe(record))
    return 0


def doctor(options: ClientOptions) -> int:
    """Print the diagnoses for the chat ``options`` name; 0 if nothing is wrong, else 1."""
    name = f"doctor-{secrets.token_hex(2)}"
    print(
        f"Looking at {options.server}:{options.port}, group {options.group}:"
        f"{options.group_port} (logging in for a moment as {name})..."
    )
    findings = probe(
        options.server, options.port, options.group, options.group_port,
        options.interface, login=name,
    )  # fmt: skip
    found = diagnose(findings, sys.platform)
    for diagnosis in found:
        print(
            textwrap.fill(diagnosis.paragraph(), 88, subsequent_indent="  ", break_on_hyphens=False)
        )
        print(f"  [{diagnosis.key}]")
    return 0 if [d.key for d in found] == ["fine"] else 1
