"""An independent DNS-SD browser (python-zeroconf's own ServiceBrowser, none of our
discovery code) inside a test's network namespace: every change to a ``_lanchat._udp``
record as one JSON line ``{"change", "name", "txt", "port", "addresses", "after"}``, for
SECONDS, then ``END`` and the records held at the end.

    python -m tests.peers.dnssd INTERFACE SECONDS
"""

from __future__ import annotations

import json
import sys
import threading
import time

from zeroconf import ServiceBrowser, ServiceStateChange, Zeroconf

SERVICE = "_lanchat._udp.local."  # written out: this browser shares nothing with ours


def main() -> int:
    interface, seconds = sys.argv[1], float(sys.argv[2])
    started = time.monotonic()
    held: dict[str, dict[str, object]] = {}
    lock = threading.Lock()

    def changed(zeroconf: Zeroconf, service_type: str, name: str,
                state_change: ServiceStateChange) -> None:  # fmt: skip
        record: dict[str, object] = {"change": state_change.name, "name": name}
        if state_change is not ServiceStateChange.Removed:
            info = zeroconf.get_service_info(service_type, name, timeout=3000)
            if info is None:
                return
            record.update(
                txt={k.decode(): (v or b"").decode() for k, v in info.properties.items()},
                port=info.port,
                addresses=info.parsed_addresses(),
            )
        record["after"] = round(time.monotonic() - started, 2)
        with lock:
            if state_change is ServiceStateChange.Removed:
                held.pop(name, None)
            else:
                held[name] = record
            print(json.dumps(record), flush=True)

    zeroconf = Zeroconf(interfaces=[interface])
    browser = ServiceBrowser(zeroconf, SERVICE, handlers=[changed])
    time.sleep(seconds)  # a bounded browse; the test reads the lines as they come
    browser.cancel()
    with lock:
        final = list(held.values())
    zeroconf.close()
    print("END " + json.dumps(final), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
