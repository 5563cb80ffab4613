"""The server's log lines: the spec's format for ordinary text, unforgeable for the rest."""

from __future__ import annotations

import errno
import io
import re
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocol_lib import RequestArrived
from server_app.logfmt import quoted, request_line

ADDR = ("10.0.0.1", 5000)
LINE = re.compile(r'^msg "((?:[^"\\]|\\.)*)" has arrived from user: (.*)$')


def test_ordinary_text_keeps_the_spec_format_exactly():
    line = request_line(RequestArrived("msg", "thyago", ADDR, "hello everyone!"))
    assert line == "msg \"hello everyone!\" has arrived from user: thyago@('10.0.0.1', 5000)"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ('say "hi"', r'"say \"hi\""'),
        ("C:\\temp", r'"C:\\temp"'),
        ("a\u202eb", r'"a\u202eb"'),
        ("caf\u00e9 \u2603", '"caf\u00e9 \u2603"'),
    ],
)
def test_quotes_backslashes_and_invisible_characters_are_escaped(text, shown):
    assert quoted(text) == shown


def test_a_message_cannot_forge_another_sender():
    forged = "hi\" has arrived from user: admin@('10.0.0.9', 1)"
    line = request_line(RequestArrived("msg", "mallory", ADDR, forged))
    match = LINE.match(line)
    assert match is not None and match.group(2) == "mallory@('10.0.0.1', 5000)"


@given(st.text(max_size=60))
def test_every_text_reads_back_whole_from_its_line(text):
    match = LINE.match(request_line(RequestArrived("msg", "bob", ADDR, text)))
    assert match is not None and match.group(2) == "bob@('10.0.0.1', 5000)"
    body = match.group(1)
    assert re.sub(r"\\(.)", "", body).isprintable()
    unescaped = re.sub(
        r'\\(["\\]|x[0-9a-f]{2}|u[0-9a-f]{4}|U[0-9a-f]{8})',
        lambda m: m.group(1) if len(m.group(1)) == 1 else chr(int(m.group(1)[1:], 16)),
        body,
    )
    assert unescaped == text


class _Target:
    """A stream that records each write (as the writer thread makes them)."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []

    def write(self, data: bytes) -> int:
        self.writes.append(data)
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass


def test_lines_are_handed_over_in_batches_by_deadline_or_size_never_one_by_one():
    from server_app.logfmt import FLUSH_BYTES, FLUSH_INTERVAL, LogSink

    target = _Target()
    sink = LogSink(target)  # type: ignore[arg-type]
    assert sink.flush_deadline() is None
    before = time.monotonic()
    sink.line("one")
    sink.line("two")
    due = sink.flush_deadline()
    assert due is not None and before < due <= time.monotonic() + FLUSH_INTERVAL
    for i in range(FLUSH_BYTES // 30):  # about 38 bytes each: passes FLUSH_BYTES once
        sink.line(f"line {i}")
    sink.close()
    assert len(target.writes) == 2  # one batch at the size limit, the rest at close
    assert len(target.writes[0]) >= FLUSH_BYTES and target.writes[0].count(b"\n") > 2
    assert sum(w.count(b"\n") for w in target.writes) == FLUSH_BYTES // 30 + 2


def test_a_record_is_stamped_when_it_is_logged_and_formatted_later_in_order(monkeypatch):
    """The relay pays a clock read and an append; the line shows the request's time."""
    from protocol_lib import RequestRejected
    from protocol_lib.reasons import Reason
    from server_app import logfmt

    target = _Target()
    sink = logfmt.LogSink(target)  # type: ignore[arg-type]
    clock = iter([1_700_000_000_250_000_000, 1_700_000_001_500_000_999, 1_700_000_002_000_001_000])
    monkeypatch.setattr(logfmt.time, "time_ns", lambda: next(clock))
    sink.event(RequestArrived("msg", "bob", ADDR, 'say "hi"'))
    sink.line("a plain line")
    sink.event(RequestRejected(Reason.NAME_TAKEN, ADDR, "'bob' is in use", None))
    monkeypatch.undo()
    sink.close()
    lines = b"".join(target.writes).decode().splitlines()
    stamps = [time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t)) for t in (1_700_000_000,
              1_700_000_001, 1_700_000_002)]  # fmt: skip
    assert lines == [
        f'{stamps[0]}.250000 msg "say \\"hi\\"" has arrived from user: bob@(\'10.0.0.1\', 5000)',
        f"{stamps[1]}.500000 a plain line",
        f"{stamps[2]}.000001 rejected datagram from ('10.0.0.1', 5000): name-taken "
        "('bob' is in use)",
    ]


def test_records_wait_for_formatting_at_most_pending_records_deep():
    from server_app.logfmt import PENDING_RECORDS, LogSink

    target = _Target()
    sink = LogSink(target)  # type: ignore[arg-type]
    for i in range(PENDING_RECORDS * 3 + 7):
        sink.event(RequestArrived("msg", "bob", ADDR, f"line {i}"))
        assert len(sink._pending) < PENDING_RECORDS
    sink.close()
    lines = b"".join(target.writes).decode().splitlines()
    assert [line.split('"')[1] for line in lines] == [
        f"line {i}" for i in range(3 * PENDING_RECORDS + 7)
    ]


class _FullDisk(io.RawIOBase):
    """A log file on a disk with ``room`` bytes left: it takes what fits, then ENOSPC."""

    def __init__(self, room: int) -> None:
        self.room = room
        self.kept = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:  # type: ignore[no-untyped-def, override]
        if self.room <= 0:
            raise OSError(errno.ENOSPC, "No space left on device")
        taken = bytes(data[: self.room])
        self.kept += taken
        self.room -= len(taken)
        return len(taken)


def test_a_full_disk_counts_exactly_the_lines_it_did_not_take():
    """Issue 37, point 8: with the log's disk full the summary said 92 lines dropped where
    48 were (a buffered file wrote part of the "dropped" batch later).  An unbuffered file
    counts to the line what did not get out whole."""
    from server_app.logfmt import _Writer

    disk = _FullDisk(room=10 * 20 + 7)  # ten 20-byte lines and a part of the eleventh
    writer = _Writer(disk)
    line = b"x" * 19 + b"\n"
    for _ in range(3):  # 30 lines in 3 batches
        writer.submit(line * 10, 10)
    writer.close(5.0)
    assert disk.kept.count(b"\n") == 10
    assert writer.dropped_total == 20  # the cut eleventh line counts as dropped
