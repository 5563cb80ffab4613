"""The lines a person typed, for Up and Down in the input field; no Qt here."""

from __future__ import annotations

HISTORY_LIMIT = 200


class InputHistory:
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
