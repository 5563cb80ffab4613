"""A lesson's first minutes across laptops and phones (issue 36's scenario): six network
namespaces on one bridge (nothing leaves them), real mDNS, real windows (offscreen) and
real phone pages (Chromium), each a process of its own driven as a person drives it.

The teacher hosts "Lab 3" with the window's button; ana joins from the list of chats; two
phones join through the page; an independent DNS-SD browser (zeroconf's own, none of our
discovery code) watches the record all along.  Then, as in a lesson: ben arrives late
behind a firewall that drops the group's port, one phone's Wi-Fi drops while its owner
types, another phone is locked for longer than the page's session waits, ana renames
herself and reopens her window, the teacher's laptop dies (kill -9) and the teacher hosts
again, and at the end the teacher ends the chat.  Each step is asserted through what a
person sees: the window's status line and lines, the doctor's keys, the page's words and
marks, the record a browser finds.  Timers are the product's own (a few seconds each),
except the locked phone's, which are real: it stays locked for 105 s while the rest goes on.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.helpers_net import ROOT
from tests.helpers_web import CHROMIUM as BROWSER
from tests.netns import Lan, mdns_env, unavailable_reason
from tests.test_netns import Process

REASON = unavailable_reason()
pytestmark = [
    pytest.mark.skipif(REASON is not None, reason=f"cross-host test: {REASON}"),
    pytest.mark.slow,
]
pytest.importorskip("aiohttp")
pytest.importorskip("playwright.sync_api")
CHROMIUM = Path(BROWSER)
TITLE = "Lab 3"
GROUP_PORT = 2241  # the spec's: "Host a chat" takes it
LOCKED_FOR = 105.0  # seconds: past the page's session (60 s after its missed pong: 30 s at most)


class Person:
    """A process of tests/peers driven by commands, each answered by one JSON line."""

    def __init__(self, lan: Lan, host: str, args: list[str], env: dict[str, str]) -> None:
        output = {"text": True, "stdout": subprocess.PIPE, "stderr": subprocess.STDOUT}
        self.process = Process(
            lan.popen(
                host, [sys.executable, *args], stdin=subprocess.PIPE, cwd=ROOT, env=env, **output
            )
        )
        self.started = self.answer("started", 30.0)

    def answer(self, cmd: str, timeout: float) -> dict[str, Any]:
        def ours(line: str) -> bool:
            return line.startswith("{") and json.loads(line).get("cmd") == cmd

        line = self.process.output.wait_for(ours, f"an answer to {cmd!r}", timeout)
        return dict(json.loads(line))

    def ask(self, cmd: str, timeout: float = 30.0) -> dict[str, Any]:
        self.process.send(cmd)
        return self.answer(cmd, timeout + 10.0)

    def must(self, cmd: str, timeout: float = 30.0) -> dict[str, Any]:
        """``cmd``, which must succeed; the answer's state when it does."""
        got = self.ask(cmd, timeout)
        assert got["ok"], f"{cmd!r} did not happen: {json.dumps(got, indent=1)[-3000:]}"
        return dict(got.get("state") or got.get("page") or {})


def window(lan: Lan, host: str, home: Path, *args: str) -> Person:
    """A window on ``host`` with its own home (settings, history), as lanchat-client."""
    env = dict(mdns_env(), QT_QPA_PLATFORM="offscreen")
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_RUNTIME_DIR", "XDG_STATE_HOME"):
        (home / var.lower()).mkdir(mode=0o700, parents=True, exist_ok=True)
        env[var] = str(home / var.lower())
    return Person(lan, host, ["-m", "tests.peers.lesson_window", *args], env)


def cut(lan: Lan, host: str) -> None:
    """``host``'s Wi-Fi drops: nothing in or out, the sockets stay open (not closed)."""
    lan.run_in(host, "nft", "add table inet cut; add chain inet cut in { type filter hook "
               "input priority 0; policy drop; }; add rule inet cut in iif lo accept; "
               "add chain inet cut out { type filter hook output priority 0; policy drop; }; "
               "add rule inet cut out oif lo accept")  # fmt: skip


def mend(lan: Lan, host: str) -> None:
    lan.run_in(host, "nft", "delete table inet cut")


class Watch:
    """The observer's DNS-SD browser: the record's changes as they come."""

    def __init__(self, lan: Lan, seconds: float) -> None:
        self.process = Process(lan.popen("observer", [
            sys.executable, "-m", "tests.peers.dnssd", lan.addresses["observer"], str(seconds)],
            cwd=ROOT, env=mdns_env(), text=True, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT))  # fmt: skip

    def users(self, wanted: int, timeout: float = 15.0) -> dict[str, Any]:
        """The record's next change to ``wanted`` people (from now on)."""

        def says(line: str) -> bool:
            if not line.startswith("{"):
                return False
            record = json.loads(line)
            txt = record.get("txt", {})
            return txt.get("name") == TITLE and txt.get("users") == str(wanted)

        return dict(json.loads(self.process.output.wait_for(says, f"{wanted} in it", timeout)))


def find_now(lan: Lan, seconds: float = 3.0) -> list[dict[str, Any]]:
    """A search started now, as a student's new window starts one: what it finds."""
    out = subprocess.run(
        ["ip", "netns", "exec", lan.namespaces["observer"], sys.executable, "-m",
         "tests.peers.dnssd", lan.addresses["observer"], str(seconds)],
        cwd=ROOT, env=mdns_env(), capture_output=True, text=True, timeout=seconds + 20,
    )  # fmt: skip
    end = [line for line in out.stdout.splitlines() if line.startswith("END ")]
    assert end, out.stdout + out.stderr
    return list(json.loads(end[0][4:]))


def texts(state: dict[str, Any], kind: str | None = None) -> list[str]:
    return [line["text"] for line in state["lines"] if kind is None or line["kind"] == kind]


@pytest.fixture
def school(tmp_path):  # type: ignore[no-untyped-def]
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (scripts/setup test installs it)")
    lan = Lan(["teacher", "ana", "ben", "phone1", "phone2", "observer"])
    people: list[Any] = []
    try:
        yield lan, tmp_path, people
    finally:
        for person in people:
            process = person.process
            if process.proc.poll() is None:
                process.proc.kill()
                process.proc.wait(10)
        lan.close()


def test_a_lessons_first_minutes(school):
    lan, home, people = school
    teacher_ip = lan.addresses["teacher"]
    watch = Watch(lan, 900.0)
    people.append(watch)

    # --- the teacher hosts; ana finds the chat and joins; two phones join the page ------
    teacher = window(lan, "teacher", home / "teacher", "--user", "rivera")
    people.append(teacher)
    hosted = teacher.must(f"host {TITLE}")
    assert hosted["hosting"] and hosted["in_chat"] and hosted["invite"], hosted
    first_login = time.monotonic()
    record = watch.users(1)
    assert record["port"] == 4321 and record["addresses"] == [teacher_ip], record
    ana = window(lan, "ana", home / "ana", "--user", "ana")
    people.append(ana)
    ana.must(f"until 15 s['chats'] == [{TITLE!r}]")  # found, not typed
    joined = ana.must("join")
    assert TITLE in joined["title"] and joined["people"] == ["ana", "rivera"], joined
    watch.users(2)
    phone1 = Person(lan, "phone1", ["-m", "tests.peers.phones", hosted["invite"]], mdns_env())
    phone2 = Person(lan, "phone2", ["-m", "tests.peers.phones", hosted["invite"]], mdns_env())
    people += [phone1, phone2]
    phone1.must("open jonas")
    phone2.must("open amira")
    watch.users(4)
    assert teacher.must("state")["chats"] == []  # its own chat is not offered to it to join
    teacher.must("say Good morning! Worksheet: https://example.org/lab3")
    ana.must("until 10 any(l['text'].startswith('Good morning') for l in s['lines'])")
    phone1.must(
        "until jonas 10 [...document.querySelectorAll('#log a')].some(a => "
        "a.href === 'https://example.org/lab3')"
    )  # a link on the page too

    # --- amira's phone is locked, for longer than the page's session waits -------------
    phone2.must("freeze amira")
    cut(lan, "phone2")
    locked = time.monotonic()

    # --- ben arrives late, behind a firewall that drops the group's port ----------------
    firewall = (
        "add table inet fw; add chain inet fw input { type filter hook input priority 0; }; "
        f"add rule inet fw input udp dport {GROUP_PORT} drop"
    )
    lan.run_in("ben", "nft", firewall)
    ben = window(lan, "ben", home / "ben", "--user", "ben")
    people.append(ben)
    assert not ben.ask("join", 20.0)["ok"]  # its login goes out; no welcome comes in
    blocked = ben.must("until 30 'group-blocked' in s['diagnoses']")  # the doctor, by itself
    assert not blocked["in_chat"], blocked
    said = " ".join(texts(blocked))
    assert "no welcome" in said and f"ufw allow {GROUP_PORT}/udp" in said, said
    lan.run_in("ben", "nft", "delete table inet fw")
    ben.must("say /login ben")
    ben.must("until 15 s['in_chat'] and 'ben' in s['people']")
    watch.users(5)

    # --- jonas's Wi-Fi drops while he types ----------------------------------------------
    cut(lan, "phone1")
    phone1.must("say jonas is it 3/4?")
    kept = phone1.must("until jonas 3 [...document.querySelectorAll('#log .msg.mine')].some("
                       "li => li.textContent.includes('is it 3/4?'))")  # fmt: skip
    assert kept["lines"][-1]["mark"] == "waiting for the connection", kept
    phone1.must(
        "until jonas 25 document.getElementById('link').textContent.startsWith('Connection lost')"
    )  # found dead by the page itself
    mend(lan, "phone1")
    phone1.must("until jonas 30 [...document.querySelectorAll('#log .msg.mine')].some(li => "
                "li.textContent.includes('is it 3/4?') && li.querySelector("
                "'.mark[aria-label=\"relayed to everyone\"]'))")  # fmt: skip
    heard = ana.must("until 10 any(l['text'] == 'is it 3/4?' for l in s['lines'])")
    assert texts(heard).count("is it 3/4?") == 1, texts(heard)

    # --- ana renames herself, closes her window and opens it again ----------------------
    ana.must("say I am on question 2")
    ana.must("say /nick anna")
    ana.must("until 10 s['people'].count('anna') == 1 and 'ana' not in s['people']")
    ana.must("say question 3 now")
    before = ana.must("until 10 [l['mark'] for l in s['lines'] if l['kind'] == 'out'][-1] "
                      "== 'delivered'")  # fmt: skip
    assert ana.ask("quit")["ok"]
    assert ana.process.proc.wait(15) == 0
    ana = window(lan, "ana", home / "ana")  # no options: as reopened from the menu
    people.append(ana)
    again = ana.must("until 15 s['in_chat'] and 'anna' in s['people']")
    said_before = [t for t in texts(before, "out") if t in ("I am on question 2", "question 3 now")]
    said_again = [t for t in texts(again, "out") if t in ("I am on question 2", "question 3 now")]
    assert said_again == said_before == ["I am on question 2", "question 3 now"], said_again
    times = [line["at"] for line in again["lines"] if line["kind"] in ("in", "out")]
    assert times == sorted(times), "not in time order"
    found = ana.must("say /search question")
    assert ana.must("until 5 s['hits'] >= 2")["hits"] >= 2, found

    # --- a student who arrives now still finds the chat, with its people counted --------
    assert time.monotonic() - first_login > 30  # the record vanished ~5 s after a login
    now = [r for r in find_now(lan) if r.get("txt", {}).get("name") == TITLE]
    assert len(now) == 1 and now[0]["txt"]["users"] == "5", now

    # --- amira unlocks her phone: the page says what is true now -----------------------
    left = LOCKED_FOR - (time.monotonic() - locked)
    if left > 0:
        teacher.ask(f"until {left:.0f} False", left)  # the lesson goes on meanwhile
    mend(lan, "phone2")
    phone2.must("thaw amira")
    back = phone2.must("until amira 20 document.getElementById('link').textContent === "
                       "'In the chat' && document.getElementById('log').textContent"
                       ".includes('Back in the chat')")  # fmt: skip
    assert back["inChat"], back

    # --- the teacher's laptop dies (kill -9) and the teacher hosts again ---------------
    teacher.process.proc.kill()
    teacher.process.proc.wait(10)
    ana.must("say anyone?")
    stopped = ana.must(f"until 30 'The server at {teacher_ip}:4321 has stopped' in s['status']")
    marks = [line["mark"] for line in stopped["lines"] if line["text"] == "anyone?"]
    assert marks == ["unconfirmed"], marks  # not "not relayed": nobody knows that
    assert "in chat" not in stopped["status"], stopped["status"]
    phone1.must("until jonas 15 document.getElementById('link').textContent"
                ".startsWith('Reconnecting')")  # fmt: skip
    teacher = window(lan, "teacher", home / "teacher", "--user", "rivera")
    people.append(teacher)
    rehosted = teacher.must(f"host {TITLE}")
    assert "is it 3/4?" in texts(rehosted), "the teacher's conversation is gone"
    sent = ana.must("until 40 [l['mark'] for l in s['lines'] if l['text'] == 'anyone?'] "
                    "== ['delivered'] and s['in_chat'] and s['answering']")  # fmt: skip
    assert "in chat as anna" in sent["status"], sent["status"]
    teacher.must("until 10 'anyone?' in [l['text'] for l in s['lines']]")
    ben.must("until 40 s['in_chat'] and s['answering'] and 'anna' in s['people']")
    phone1.must("until jonas 40 document.getElementById('link').textContent === 'In the chat'")

    # --- the teacher ends the chat ------------------------------------------------------
    assert teacher.ask("end")["ok"]
    assert teacher.process.proc.wait(15) == 0
    phone1.must("until jonas 15 document.getElementById('ended-text').textContent"
                ".startsWith('The host ended the chat')")  # fmt: skip
    ana.must("until 10 not s['in_chat'] and any(l['text'].startswith('The chat has ended') "
             "for l in s['lines'])")  # said a moment after the last goodbye  # fmt: skip
    watch.process.output.wait_for(
        lambda line: line.startswith("{") and json.loads(line)["change"] == "Removed",
        "the record withdrawn",
        10.0,
    )
