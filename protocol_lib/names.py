"""The one place that decides what a user name may be.

Names travel inside comma-separated datagrams and are shown in other people's
windows, so they must survive both: no comma (it would split a list reply), no
colon (relays read ``<user>: <text>`` and a colon in the name would move the
sender boundary), no control or line-break characters (they would corrupt other
clients' text widgets and our log lines), and a length a user list can hold.
"""

from __future__ import annotations

import unicodedata

from .errors import LocalProtocolError

MAX_NAME_CHARS = 32
"""Upper bound in characters: about 30 maximal names still fit one list reply."""

_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})

NAME_REASONS: dict[str, str] = {
    "name-empty": "the name is empty",
    "name-whitespace": "the name starts or ends with blanks",
    "name-too-long": f"the name is longer than {MAX_NAME_CHARS} characters",
    "name-comma": "the name contains a comma",
    "name-colon": "the name contains a colon",
    "name-control": "the name contains a control or line-break character",
}
"""Reason code -> sentence a person can read; the codes are stable."""


def name_problem(name: str) -> str | None:
    """Return the reason code why ``name`` is not a valid user name, or None.

    The name is judged as given: callers that accept untrimmed input strip it
    first, so that a name is never silently different from what was checked.
    This is the rule for a name entering the chat (a login); names that other
    servers announce are held only to ``wire_name_problem``.
    """
    problem = wire_name_problem(name)
    if problem is None and len(name) > MAX_NAME_CHARS:
        return "name-too-long"
    return problem


def wire_name_problem(name: str) -> str | None:
    """Return why ``name`` cannot travel in a datagram at all, or None.

    What any peer could misread: a comma splits a list reply, a colon moves
    the ``<user>: <text>`` boundary, control characters break one-line
    display and logs.  The length limit is our login policy, not a wire rule:
    other servers admit longer names, and we relay and show them as they are.
    """
    if not name:
        return "name-empty"
    if name != name.strip():
        return "name-whitespace"
    if "," in name:
        return "name-comma"
    if ":" in name:
        return "name-colon"
    if not name.isprintable() and any(
        unicodedata.category(ch) in _FORBIDDEN_CATEGORIES for ch in name
    ):  # isprintable() is the C fast path; the categories decide the rare rest
        return "name-control"
    return None


def clean_name(raw: str) -> str:
    """Strip ``raw`` and return it as a valid name, or raise LocalProtocolError.

    For names typed by a person: surrounding blanks are forgiven, everything
    else is refused with a reason that can be shown to them.
    """
    name = raw.strip()
    problem = name_problem(name)
    if problem is not None:
        raise LocalProtocolError(problem, f"{NAME_REASONS[problem]}: {name!r}")
    return name
