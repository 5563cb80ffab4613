"""List models for the QML view; only the GUI thread ever calls them.

Rows arrive in batches (one ``beginInsertRows`` per batch, not per datagram):
under a flood the view then does one layout per event-loop tick.  The
scrollback is capped, so memory stays bounded however long the chat runs.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable
from datetime import date
from enum import IntEnum

from PySide6.QtCore import (
    Property,
    QAbstractListModel,
    QByteArray,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtQml import QmlElement

from protocol_lib.client_events import MessageStatus
from protocol_lib.discovery import ChatRecord
from protocol_lib.display import shown_name, shown_text

from .presenter import SAID, ChatLine, LineKind, day_of
from .search_hits import has_words

QML_IMPORT_NAME = "LanChatBackend"
QML_IMPORT_MAJOR_VERSION = 1

DEFAULT_SCROLLBACK = 10_000

_Index = QModelIndex | QPersistentModelIndex  # what Qt may pass to rowCount and data


MARK_TEXTS: dict[MessageStatus | None, str] = {
    None: "",
    MessageStatus.QUEUED: "\u25f7 queued",
    MessageStatus.PENDING: "\u2026 sending",
    MessageStatus.DELIVERED: "\u2713 delivered",
    MessageStatus.FAILED: "\u2717 not relayed",
    MessageStatus.UNCONFIRMED: "? not confirmed",
    MessageStatus.SENT: "sent (no delivery mark)",
}
"""The mark of an own line in words, for each status (what a screen reader says)."""

SMALL_MARKS: dict[MessageStatus | None, str] = {
    **MARK_TEXTS,
    MessageStatus.QUEUED: "\u25f7",
    MessageStatus.PENDING: "\u2026",
    MessageStatus.DELIVERED: "\u2713",
    MessageStatus.SENT: "",
}
"""The mark shown beside an own line's time: a sign, small; a failure keeps its words."""

GROUP_GAP = 300.0  # seconds: a sender's next line after longer starts a group of its own


class MessageRoles(IntEnum):
    """What the QML delegate reads: display text and booleans, never codes to compare."""

    LINE_TEXT = Qt.ItemDataRole.UserRole + 1
    SENDER = Qt.ItemDataRole.UserRole + 2
    TIMESTAMP = Qt.ItemDataRole.UserRole + 3
    MARK_TEXT = Qt.ItemDataRole.UserRole + 4
    OUTGOING = Qt.ItemDataRole.UserRole + 5
    IN_BUBBLE = Qt.ItemDataRole.UserRole + 6  # a chat line (ours, theirs, raw, foreign)
    RAW = Qt.ItemDataRole.UserRole + 7
    FOREIGN = Qt.ItemDataRole.UserRole + 8
    IS_ERROR = Qt.ItemDataRole.UserRole + 9
    IS_SYSTEM = Qt.ItemDataRole.UserRole + 10
    FAILED = Qt.ItemDataRole.UserRole + 11
    MENTION = Qt.ItemDataRole.UserRole + 12  # the line names the user
    LINKS = Qt.ItemDataRole.UserRole + 13  # http(s) addresses in the line, as a list
    MARK_WORDS = Qt.ItemDataRole.UserRole + 14  # the mark in words (MARK_TEXT is a sign)
    CONTINUED = Qt.ItemDataRole.UserRole + 15  # same sender as the line above: no header
    DAY_TEXT = Qt.ItemDataRole.UserRole + 16  # the first line of a day: the day, else ""
    LINKED_TEXT = Qt.ItemDataRole.UserRole + 17  # escaped, its links anchors; "" if none


_MESSAGE_ROLES: dict[int, tuple[bytes, Callable[[ChatLine], object]]] = {
    MessageRoles.LINE_TEXT: (b"lineText", lambda line: line.line_text),
    MessageRoles.SENDER: (b"sender", lambda line: line.sender),
    MessageRoles.TIMESTAMP: (b"timestamp", lambda line: line.timestamp),
    MessageRoles.MARK_TEXT: (b"markText", lambda line: SMALL_MARKS[line.status]),
    MessageRoles.MARK_WORDS: (b"markWords", lambda line: MARK_TEXTS[line.status]),
    MessageRoles.OUTGOING: (b"outgoing", lambda line: line.kind is LineKind.OUT),
    MessageRoles.IN_BUBBLE: (b"inBubble", lambda line: line.kind in SAID),
    MessageRoles.RAW: (b"raw", lambda line: line.kind is LineKind.RAW),
    MessageRoles.FOREIGN: (b"foreign", lambda line: line.kind is LineKind.FOREIGN),
    MessageRoles.IS_ERROR: (b"isError", lambda line: line.kind is LineKind.ERROR),
    MessageRoles.IS_SYSTEM: (b"isSystem", lambda line: line.kind is LineKind.SYSTEM),
    MessageRoles.FAILED: (b"failed", lambda line: line.status is MessageStatus.FAILED),
    MessageRoles.MENTION: (b"mention", lambda line: line.mention),
    MessageRoles.LINKS: (b"links", lambda line: line.links),
    MessageRoles.LINKED_TEXT: (b"linkedText", lambda line: line.linked_text),
    Qt.ItemDataRole.DisplayRole: (b"display", lambda line: line.line_text),
}
_MARK_ROLES = [int(MessageRoles.MARK_TEXT), int(MessageRoles.MARK_WORDS), int(MessageRoles.FAILED)]
_NEIGHBOUR_ROLES = [int(MessageRoles.CONTINUED), int(MessageRoles.DAY_TEXT)]


def _day(line: ChatLine) -> int:
    return date.fromtimestamp(line.at).toordinal()


def continues(line: ChatLine, above: ChatLine) -> bool:
    """Whether ``line`` goes under ``above``'s header: one sender's chat lines in a row, the
    same day, each within GROUP_GAP of the one before (a system line between ends a group)."""
    return (
        line.kind is above.kind
        and line.kind in SAID
        and line.sender == above.sender
        and 0 <= line.at - above.at <= GROUP_GAP
        and _day(line) == _day(above)
    )


def _seq(line: ChatLine) -> int:
    return line.seq


@QmlElement
class MessageModel(QAbstractListModel):
    """The chat's lines, oldest first, at most ``scrollback`` of them."""

    appendedChanged = Signal()

    def __init__(self, parent: QObject | None = None, scrollback: int = DEFAULT_SCROLLBACK):
        super().__init__(parent)
        self.scrollback = scrollback
        self._rows: list[ChatLine] = []  # their ``seq`` increases down the rows
        self._next_seq = 0  # the number the next line appended gets
        self._seq_of_message: dict[int, int] = {}  # own message id -> sequence number
        self.total_appended = 0

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._rows)

    def roleNames(self) -> dict[int, QByteArray]:
        names = {int(role): QByteArray(name) for role, (name, _) in _MESSAGE_ROLES.items()}
        names[MessageRoles.CONTINUED] = QByteArray(b"continued")
        names[MessageRoles.DAY_TEXT] = QByteArray(b"dayText")
        return names

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        # Called per role per visible line each frame of a flood: one call into Qt, not
        # three (an invalid index has row -1).
        row = index.row()
        if not 0 <= row < len(self._rows):
            return None
        entry = _MESSAGE_ROLES.get(role)
        if entry is not None:
            return entry[1](self._rows[row])
        if role == MessageRoles.CONTINUED:
            return row > 0 and continues(self._rows[row], self._rows[row - 1])
        if role == MessageRoles.DAY_TEXT:  # the first line, and each line of a new day
            line = self._rows[row]
            return day_of(line.at) if row == 0 or _day(line) != _day(self._rows[row - 1]) else ""
        return None

    def line(self, row: int) -> ChatLine:
        return self._rows[row]

    def sequence(self, row: int) -> int:
        """The line's number since the window opened: unlike its row, it stays the same
        while older lines leave (a search keeps its hits by it, a mark its line)."""
        return self._rows[row].seq

    def row_of(self, sequence: int) -> int | None:
        """The row of line number ``sequence``; None once it has left the view."""
        row = bisect_left(self._rows, sequence, key=_seq)
        return row if row < len(self._rows) and self._rows[row].seq == sequence else None

    def remove_line(self, line: ChatLine) -> bool:
        """Take ``line`` out of the view (the unread marker moving); False if not there."""
        row = self.row_of(line.seq)
        if row is None or self._rows[row] is not line:
            return False
        self.beginRemoveRows(QModelIndex(), row, row)
        del self._rows[row]
        self._forget([line])
        self.endRemoveRows()
        self._neighbour_changed(row)  # the line below may now join the group above
        return True

    def _neighbour_changed(self, row: int) -> None:
        """The line above ``row`` changed (removed): its group and day may differ now."""
        if row < len(self._rows):
            index = self.index(row, 0)
            self.dataChanged.emit(index, index, _NEIGHBOUR_ROLES)

    def rows_with(self, terms: list[list[str]], first: int = 0, last: int = -1) -> list[int]:
        """Rows ``first``..``last`` (all by default) whose text has every one of ``terms``
        (search_hits.search_phrases, found as search_hits.has_words finds them), newest first.
        Only what people said: not the window's own lines (a history listing, a join)."""
        last = len(self._rows) - 1 if last < 0 else last
        return [
            row
            for row in range(last, first - 1, -1)
            if self._rows[row].kind in SAID and has_words(terms, self._rows[row].line_text)
        ]

    def as_text(self, first: int, last: int) -> str:
        """Rows ``first``..``last`` as plain text: ``[time] who: text`` per line."""
        rows = self._rows[max(0, first) : max(0, last) + 1]
        return "\n".join(
            f"[{line.timestamp}] {line.sender + ': ' if line.sender else ''}{line.line_text}"
            for line in rows
        )

    def append_lines(self, lines: list[ChatLine]) -> None:
        """Add a batch at the end, then drop the oldest lines beyond the scrollback."""
        if not lines:
            return
        if len(lines) > self.scrollback:
            dropped = len(lines) - self.scrollback
            self.total_appended += dropped
            self._forget(lines[:dropped])
            lines = lines[dropped:]
        start = len(self._rows)
        seq = self._next_seq
        for offset, line in enumerate(lines):
            line.seq = seq + offset
            if line.message_id:
                self._seq_of_message[line.message_id] = seq + offset
        self._next_seq = seq + len(lines)
        self.beginInsertRows(QModelIndex(), start, start + len(lines) - 1)
        self._rows.extend(lines)
        self.endInsertRows()
        self.total_appended += len(lines)
        self.appendedChanged.emit()
        excess = len(self._rows) - self.scrollback
        if excess > 0:
            self.beginRemoveRows(QModelIndex(), 0, excess - 1)
            self._forget(self._rows[:excess])
            del self._rows[:excess]
            self.endRemoveRows()
            self._neighbour_changed(0)  # the new first line heads its group and day

    def _get_appended(self) -> int:
        return self.total_appended

    # Lines ever appended (the view counts what arrived while it was scrolled up).
    appended = Property(int, _get_appended, notify=appendedChanged)

    def clear(self) -> None:
        """Empty the view (``/clear``); marks of lines no longer shown are dropped."""
        self.beginResetModel()
        self._rows = []
        self._seq_of_message.clear()
        self.endResetModel()

    def set_status(self, message_id: int, status: MessageStatus) -> bool:
        """Mark own message ``message_id``; False if it has left the scrollback."""
        seq = self._seq_of_message.get(message_id)
        row = self.row_of(seq) if seq is not None else None
        if row is None:
            return False
        self._rows[row].status = status
        index = self.index(row, 0)
        self.dataChanged.emit(index, index, _MARK_ROLES)
        return True

    def _forget(self, lines: list[ChatLine]) -> None:
        for line in lines:
            if line.message_id:
                self._seq_of_message.pop(line.message_id, None)


class UserRoles(IntEnum):
    NAME = Qt.ItemDataRole.UserRole + 1
    IS_SELF = Qt.ItemDataRole.UserRole + 2


@QmlElement
class UserModel(QAbstractListModel):
    """Who is in the chat, in the server's order; our own name is marked."""

    countChanged = Signal()

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._users: tuple[str, ...] = ()
        self._me: str | None = None

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._users)

    def roleNames(self) -> dict[int, QByteArray]:
        return {
            int(UserRoles.NAME): QByteArray(b"userName"),
            int(UserRoles.IS_SELF): QByteArray(b"isSelf"),
        }

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or not 0 <= index.row() < len(self._users):
            return None
        name = self._users[index.row()]
        if role in (UserRoles.NAME, Qt.ItemDataRole.DisplayRole):
            return shown_name(name)  # a name is foreign text: nothing in it may hide
        if role == UserRoles.IS_SELF:
            return name == self._me
        return None

    @property
    def users(self) -> tuple[str, ...]:
        return self._users

    def set_users(self, users: tuple[str, ...], me: str | None) -> None:
        if users == self._users and me == self._me:
            return
        counted = len(users) != len(self._users)
        self.beginResetModel()
        self._users, self._me = users, me
        self.endResetModel()
        if counted:
            self.countChanged.emit()

    # How many are in the chat (a narrow window's "People (3)" button).
    count = Property(int, lambda self: len(self._users), notify=countChanged)


class ChatRoles(IntEnum):
    TITLE = Qt.ItemDataRole.UserRole + 1
    WHERE = Qt.ItemDataRole.UserRole + 2  # address:port
    USERS = Qt.ItemDataRole.UserRole + 3  # "3 in the chat", or ""


@QmlElement
class ChatsModel(QAbstractListModel):
    """The chats found, by title; the GUI thread alone sets them."""

    countChanged = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._records: list[ChatRecord] = []

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._records)

    def roleNames(self) -> dict[int, QByteArray]:
        return {
            int(ChatRoles.TITLE): QByteArray(b"title"),
            int(ChatRoles.WHERE): QByteArray(b"where"),
            int(ChatRoles.USERS): QByteArray(b"users"),
        }

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or not 0 <= index.row() < len(self._records):
            return None
        record = self._records[index.row()]
        if role in (ChatRoles.TITLE, Qt.ItemDataRole.DisplayRole):
            return shown_text(record.title)  # foreign text: nothing in it may hide
        if role == ChatRoles.WHERE:
            return f"{record.address}:{record.port}"
        if role == ChatRoles.USERS:
            return record.people
        return None

    def record(self, row: int) -> ChatRecord | None:
        return self._records[row] if 0 <= row < len(self._records) else None

    def set_records(self, records: list[ChatRecord]) -> None:
        if records == self._records:
            return
        counted = len(records) != len(self._records)
        self.beginResetModel()
        self._records = list(records)
        self.endResetModel()
        if counted:
            self.countChanged.emit()

    count = Property(int, lambda self: len(self._records), notify=countChanged)
