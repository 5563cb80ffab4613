"""List models for the QML view; only the GUI thread ever calls them.

Rows arrive in batches (one ``beginInsertRows`` per batch, not per datagram):
under a flood the view then does one layout per event-loop tick.  The
scrollback is capped, so memory stays bounded however long the chat runs.
"""

from __future__ import annotations

from enum import IntEnum

from PySide6.QtCore import (
    QAbstractListModel,
    QByteArray,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtQml import QmlElement

from protocol_lib.display import shown_name

from .presenter import ChatLine

QML_IMPORT_NAME = "LanChatBackend"
QML_IMPORT_MAJOR_VERSION = 1

DEFAULT_SCROLLBACK = 10_000

_Index = QModelIndex | QPersistentModelIndex  # what Qt may pass to rowCount and data


class MessageRoles(IntEnum):
    DIRECTION = Qt.ItemDataRole.UserRole + 1
    LINE_TEXT = Qt.ItemDataRole.UserRole + 2
    SENDER = Qt.ItemDataRole.UserRole + 3
    TIMESTAMP = Qt.ItemDataRole.UserRole + 4
    STATUS = Qt.ItemDataRole.UserRole + 5


_MESSAGE_ROLE_NAMES = {
    MessageRoles.DIRECTION: b"direction",
    MessageRoles.LINE_TEXT: b"lineText",
    MessageRoles.SENDER: b"sender",
    MessageRoles.TIMESTAMP: b"timestamp",
    MessageRoles.STATUS: b"status",
}
_MESSAGE_FIELDS: dict[int, str] = {
    MessageRoles.DIRECTION: "direction",
    MessageRoles.LINE_TEXT: "line_text",
    MessageRoles.SENDER: "sender",
    MessageRoles.TIMESTAMP: "timestamp",
    MessageRoles.STATUS: "status",
    Qt.ItemDataRole.DisplayRole: "line_text",
}


@QmlElement
class MessageModel(QAbstractListModel):
    """The chat's lines, oldest first, at most ``scrollback`` of them."""

    countChanged = Signal()

    def __init__(self, parent: QObject | None = None, scrollback: int = DEFAULT_SCROLLBACK):
        super().__init__(parent)
        self.scrollback = scrollback
        self._rows: list[ChatLine] = []
        self._first_seq = 0  # sequence number of self._rows[0]
        self._seq_of_message: dict[int, int] = {}  # own message id -> sequence number
        self.total_appended = 0

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._rows)

    def roleNames(self) -> dict[int, QByteArray]:
        return {int(role): QByteArray(name) for role, name in _MESSAGE_ROLE_NAMES.items()}

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        field = _MESSAGE_FIELDS.get(role)
        return getattr(self._rows[index.row()], field) if field else None

    def line(self, row: int) -> ChatLine:
        return self._rows[row]

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
        seq = self._first_seq + start
        for offset, line in enumerate(lines):
            if line.message_id:
                self._seq_of_message[line.message_id] = seq + offset
        self.beginInsertRows(QModelIndex(), start, start + len(lines) - 1)
        self._rows.extend(lines)
        self.endInsertRows()
        self.total_appended += len(lines)
        excess = len(self._rows) - self.scrollback
        if excess > 0:
            self.beginRemoveRows(QModelIndex(), 0, excess - 1)
            self._forget(self._rows[:excess])
            del self._rows[:excess]
            self._first_seq += excess
            self.endRemoveRows()
        self.countChanged.emit()

    def set_status(self, message_id: int, status: str) -> bool:
        """Mark own message ``message_id``; False if it has left the scrollback."""
        seq = self._seq_of_message.get(message_id)
        if seq is None:
            return False
        row = seq - self._first_seq
        self._rows[row].status = status
        index = self.index(row, 0)
        self.dataChanged.emit(index, index, [int(MessageRoles.STATUS)])
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
        self.beginResetModel()
        self._users, self._me = users, me
        self.endResetModel()
        self.countChanged.emit()
