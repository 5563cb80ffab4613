"""The gateway's limits, in a module of their own: the command line's defaults and help
read them without importing aiohttp (``lanchat-web --help`` works where it is missing),
and they are written once."""

from __future__ import annotations

from dataclasses import dataclass, field

from protocol_lib import RateLimit


@dataclass(frozen=True, slots=True)
class Limits:
    """What keeps one browser from hurting the rest; each is logged when it bites."""

    max_users: int = 500  # people on this gateway at once
    per_address: int = 8  # WebSocket connections from one browser address
    # TCP connections from one address at once: its pages, their files and a WebSocket each
    tcp_per_address: int = 32
    frames: RateLimit = field(default_factory=lambda: RateLimit(burst=20.0, per_second=8.0))
    queued_lines: int = 30  # chat lines waiting for the pace, per person
    send_queue: int = 512  # frames waiting for a slow page before it is dropped
    login_within: float = 120.0  # seconds a connection may stay without logging in
    resume_within: float = 60.0  # seconds a session waits for its page to come back
    replay: int = 300  # frames kept per person for a page that comes back
    heartbeat: float = 20.0  # seconds between pings; a page that does not answer is gone
    # seconds a connection may stay without a whole request (one that never sends a byte,
    # or one that sends a header a byte at a time), and an idle one between requests:
    # 9,000 such connections held all of the gateway's descriptors, for ever
    request_within: float = 10.0
