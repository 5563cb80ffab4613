"""Phone pages in Debian's Chromium (Playwright), inside a test's network namespace, driven
on stdin one command a line; each is answered with one JSON line ``{"cmd", "ok", "page"}``
(``page``: what the named page shows: its link line, the join screen's words, its chat
lines with their marks, whether the chat or the join screen is up).

    python -m tests.peers.phones URL

    open NAME                 a phone-sized page at URL; NAME typed, Join tapped; answered
                              once the page says "In the chat"
    say NAME TEXT             TEXT typed and Enter pressed
    until NAME SECONDS JS     answered once JS (a function body's expression over the page's
                              document) holds in NAME's page, or SECONDS passed
    freeze NAME / thaw NAME   the page frozen as a locked phone's (no script runs), and back
                              (thawed, the page is told it is visible again, as on unlock)
    tap NAME LABEL            the button labelled LABEL tapped
    quit
"""

from __future__ import annotations

import json
import sys
from typing import Any

from playwright.sync_api import Page, sync_playwright

from tests.helpers_web import ARGS, CHROMIUM, PHONE

SNAPSHOT = """() => ({
  link: document.getElementById('link').textContent,
  joinError: document.getElementById('join-error').textContent,
  inChat: !document.getElementById('chat').hidden,
  lines: [...document.querySelectorAll('#log li')].map(li => ({
    text: (li.querySelector('.text') || li).textContent,
    mine: li.classList.contains('mine'),
    mark: (li.querySelector('.mark') || {getAttribute: () => ''}).getAttribute('aria-label') || '',
  })),
})"""


def snapshot(page: Page) -> dict[str, Any]:
    try:
        return dict(page.evaluate(SNAPSHOT))
    except Exception as exc:  # a frozen page cannot answer: say so, not crash
        return {"error": repr(exc)}


def main() -> int:
    url = sys.argv[1]
    pages: dict[str, Page] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        print(json.dumps({"cmd": "started", "ok": True}), flush=True)
        for raw in sys.stdin:
            line = raw.rstrip("\n")
            word, _, rest = line.partition(" ")
            ok = True
            name = ""
            try:
                if word == "quit":
                    break
                name, _, rest = rest.partition(" ")
                if word == "open":
                    page = browser.new_context(viewport=PHONE).new_page()
                    page.set_default_timeout(20_000)
                    page.goto(url)
                    page.get_by_label("Your name").fill(name)
                    page.get_by_role("button", name="Join").click()
                    page.wait_for_function(
                        "() => document.getElementById('link').textContent === 'In the chat'"
                    )
                    pages[name] = page
                elif word == "say":
                    pages[name].get_by_label("Message").fill(rest)
                    pages[name].keyboard.press("Enter")
                elif word == "until":
                    seconds, _, js = rest.partition(" ")
                    try:
                        pages[name].wait_for_function(f"() => {js}", timeout=float(seconds) * 1000)
                    except Exception:  # a timeout: answered as not held
                        ok = False
                elif word in ("freeze", "thaw"):
                    cdp = pages[name].context.new_cdp_session(pages[name])
                    frozen = word == "freeze"
                    lifecycle = {"state": "frozen" if frozen else "active"}
                    cdp.send("Page.setWebLifecycleState", lifecycle)
                    if not frozen:  # unlocked: the page learns it is seen again
                        pages[name].evaluate(
                            "document.dispatchEvent(new Event('visibilitychange'))"
                        )
                    cdp.detach()
                elif word == "tap":
                    pages[name].get_by_role("button", name=rest).click()
                else:
                    ok = False
            except Exception as exc:  # answered, so the test says what went wrong
                print(json.dumps({"cmd": line, "ok": False, "error": repr(exc)}), flush=True)
                continue
            page_state = snapshot(pages[name]) if name in pages else {}
            print(json.dumps({"cmd": line, "ok": ok, "page": page_state}), flush=True)
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
