"""Equality that knows the kind, for the cores' NamedTuple actions and inputs.

Tuples compare by their values alone: ``Publish(e) == RemoteEvent(e)`` and
``SendToGroup(b"x") == (b"x",)`` were both True, so a test comparing lists of actions
could not tell one action from another.  The actions stay NamedTuples (the cheapest
object Python makes, and a relayed line makes two: benchmarks/README, "Distinct
actions"); ``@by_kind`` teaches only their comparison the type, which the hot path never
uses (the socket loop dispatches on the class).
"""

from __future__ import annotations

from typing import TypeVar

T = TypeVar("T", bound=tuple)  # type: ignore[type-arg]


def _eq(self: tuple, other: object) -> bool:  # type: ignore[type-arg]
    if not isinstance(other, tuple):
        return NotImplemented  # type: ignore[no-any-return]  # the other side decides
    return type(self) is type(other) and tuple.__eq__(self, other)


def _ne(self: tuple, other: object) -> bool:  # type: ignore[type-arg]
    equal = _eq(self, other)
    return equal if equal is NotImplemented else not equal


def by_kind(cls: type[T]) -> type[T]:
    """``cls``'s instances equal only instances of ``cls`` with equal fields (hash kept)."""
    cls.__eq__ = _eq  # type: ignore[method-assign]
    cls.__ne__ = _ne  # type: ignore[assignment,method-assign]
    cls.__hash__ = tuple.__hash__  # type: ignore[method-assign]
    return cls
