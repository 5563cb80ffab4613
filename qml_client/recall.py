"""What the input field does besides sending: Up/Down recall of typed lines, Tab completion.
No Qt here. (Not the chat's history: that is history_store.py.)"""

from __future__ import annotations

from .commands import pasted_lines

HISTORY_LIMIT = 200


class InputRecall:
    """Typed lines, oldest first, with a cursor that Up and Down move.

    A line typed twice in a row is kept once; past the newest line the cursor
    shows an empty field, as shells do.
    """

    def __init__(self, limit: int = HISTORY_LIMIT) -> None:
        self.limit = limit
        self._lines: list[str] = []
        self._pos = 0

    def add(self, line: str) -> None:
        if line.strip():
            if not self._lines or self._lines[-1] != line:
                self._lines.append(line)
                del self._lines[: -self.limit]
            self._pos = len(self._lines)

    def previous(self) -> str:
        """The line typed before the one shown (the oldest stays)."""
        if self._pos > 0:
            self._pos -= 1
        return self._lines[self._pos] if self._lines else ""

    def next(self) -> str:
        """The line typed after the one shown; empty past the newest."""
        if self._pos < len(self._lines):
            self._pos += 1
        return self._lines[self._pos] if self._pos < len(self._lines) else ""


PASTE_CONFIRM_LINES = 5  # a paste of more lines than this is sent only once the user agrees


class PasteGate:
    """A paste of many lines waits for the user's yes before it is sent, one message a
    line: a stray Ctrl+V of a whole document must not flood the chat."""

    def __init__(self, limit: int = PASTE_CONFIRM_LINES) -> None:
        self.limit = limit
        self.waiting: str | None = None

    def holds(self, text: str) -> int:
        """How many lines ``text`` is if it must wait (it is kept), else 0."""
        count = len(pasted_lines(text))
        if count <= self.limit:
            return 0
        self.waiting = text
        return count

    def hold(self, lines: list[str]) -> int:
        """Keep ``lines`` (a long line split to fit) to send once the user agrees."""
        self.waiting = "\n".join(lines)
        return len(lines)

    def preview(self, shown: int = 8) -> str:
        """The waiting paste as the messages it becomes: the first ``shown``, then how
        many more (for the dialog that asks)."""
        lines = pasted_lines(self.waiting or "")
        more = len(lines) - shown
        return "\n".join(lines[:shown] + ([f"\u2026 and {more} more"] if more > 0 else []))

    def loses_layout(self) -> bool:
        """Whether the waiting paste has indented or blank lines: a chat line cannot start
        with a space (every peer trims it), so code pasted loses its layout (the dialog
        says so)."""
        lines = (self.waiting or "").splitlines()
        return any(not line.strip() or line[:1].isspace() for line in lines)

    def release(self) -> str | None:
        """The waiting paste, now to be sent (None: nothing waits); the gate is empty after."""
        text, self.waiting = self.waiting, None
        return text


def complete_name(text: str, names: list[str], me: str | None = None) -> str:
    """``text`` with its last word completed to a name in the chat (Tab).

    One match: the whole name, and ``": "`` after it when it is the first word
    (addressing someone, as IRC clients do).  Several: their common start.
    None: ``text`` unchanged.  Case is ignored; your own name is not offered.
    """
    head, _, word = text.rpartition(" ")
    if not word:
        return text
    folded = word.casefold()
    matches = [n for n in names if n != me and n.casefold().startswith(folded)]
    if not matches:
        return text
    if len(matches) == 1:
        done = matches[0] + (": " if not head else " ")
    else:
        done = matches[0]
        for other in matches[1:]:
            while not other.casefold().startswith(done.casefold()):
                done = done[:-1]
        if len(done) < len(word):
            return text
    return f"{head} {done}" if head else done
