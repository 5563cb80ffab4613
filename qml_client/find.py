"""``lanchat-client --find``: the chats announced on this network, in the terminal (no Qt).

Browses DNS-SD (``_lanchat._udp``) on every LAN address for a few seconds and prints each
chat found with the command line that joins it.  Servers that do not announce themselves
(other people's) are not listed: type their address as before.
"""

from __future__ import annotations

import threading
import time

from protocol_lib.discovery import ChatRecord
from protocol_lib.display import shown_text
from protocol_lib.io.discovery import Browser

FIND_SECONDS = 2.0  # how long --find listens: a record answers within about a second


def describe(record: ChatRecord) -> str:
    """One chat as lines for a terminal (its title is foreign text: shown safely)."""
    users = "" if record.users is None else f", {record.users} in the chat"
    return (
        f"  {shown_text(record.title)}: {record.address}:{record.port}, group "
        f"{record.group}:{record.group_port}{users}\n"
        f"    lanchat-client {record.address} --port {record.port} --group {record.group} "
        f"--group-port {record.group_port}"
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
