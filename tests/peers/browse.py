"""Browse DNS-SD for ``_lanchat._udp`` on INTERFACE for SECONDS; print each record as JSON
(with the time it was first seen, and again each time its ``users`` changes), then END.
Run inside a test's network namespace."""

from __future__ import annotations

import json
import sys
import threading
import time
from dataclasses import asdict

from protocol_lib.io.discovery import Browser


def main() -> int:
    interface, seconds = sys.argv[1], float(sys.argv[2])
    started = time.monotonic()
    shown: dict[str, int | None] = {}  # title -> users, as last printed
    lock = threading.Lock()

    def changed(records) -> None:  # type: ignore[no-untyped-def]
        with lock:
            for record in records:
                if record.title not in shown or shown[record.title] != record.users:
                    shown[record.title] = record.users
                    after = time.monotonic() - started
                    print(json.dumps({**asdict(record), "after": after}), flush=True)

    browser = Browser(changed, [interface])
    problem = browser.start()
    if problem:
        print(f"PROBLEM {problem}", flush=True)
        return 2
    time.sleep(seconds)  # a bounded listen (the test reads lines as they come)
    final = browser.found()
    browser.close()
    print("END " + json.dumps([asdict(r) for r in final]), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
