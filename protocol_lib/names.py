"""The one place that decides what a user name may be.

Names travel inside comma-separated datagrams and are shown in other people's
windows, so they must survive both: no comma (it would split a list reply), no
colon (relays read ``<user>: <text>`` and a colon in the name would move the
sender boundary), no control or line-break characters (they would corrupt other
clients' text widgets and our log lines), and a length a user list can hold.

Names are also how people know who is talking, so a login may not look like
someone else: uniqueness is decided on ``canonical_name`` (``ALICE``, ``alice``
with a Cyrillic first letter and fullwidth ``alice`` are all one), and characters that
cannot be seen or that reorder text (zero-width, bidirectional controls,
combining marks with nothing to sit on) are refused outright.  A name is still
shown and relayed exactly as it was typed.
"""

from __future__ import annotations

import unicodedata

from .errors import LocalProtocolError
from .limits import MAX_NAME_CHARS
from .reasons import REASONS, Reason

_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})

_BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
# Letters that draw nothing (category Lo/So, so no category rule catches them).
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")
_MAX_STACKED_MARKS = 4  # Thai or Devanagari stack two or three; "Zalgo" text stacks dozens

# Common look-alikes of Latin letters, as they are after NFKC and case folding
# (so each entry also covers its capital).  Where the small and the capital
# letter resemble different Latin letters (Greek nu: "v" and "N"), the small one
# wins: names are mostly typed in small letters.
_CONFUSABLES = str.maketrans(
    {
        # Cyrillic
        "\u0430": "a", "\u0432": "b", "\u0435": "e", "\u0451": "e", "\u0456": "i",
        "\u0457": "i", "\u0458": "j", "\u043a": "k", "\u043c": "m", "\u043d": "h",
        "\u043e": "o", "\u0440": "p", "\u0441": "c", "\u0442": "t", "\u0443": "y",
        "\u0445": "x", "\u0455": "s", "\u0501": "d", "\u04cf": "l", "\u051b": "q",
        "\u051d": "w", "\u04bb": "h", "\u0261": "g",
        # Greek
        "\u03b1": "a", "\u03b2": "b", "\u03b5": "e", "\u03b6": "z", "\u03b7": "n",
        "\u03b9": "i", "\u03ba": "k", "\u03bc": "u", "\u03bd": "v", "\u03bf": "o",
        "\u03c1": "p", "\u03c4": "t", "\u03c5": "u", "\u03c7": "x", "\u03f2": "c",
        "\u03f3": "j",
        # Latin letters drawn like others
        "\u0131": "i", "\u0269": "i", "\u01c0": "l", "\u0251": "a",
    }
)  # fmt: skip


def name_problem(name: str) -> Reason | None:
    """Return the reason code why ``name`` is not a valid user name, or None.

    The name is judged as given: callers that accept untrimmed input strip it
    first, so that a name is never silently different from what was checked.
    This is the rule for a name entering the chat (a login); names that other
    servers announce are held only to ``wire_name_problem``.
    """
    problem = wire_name_problem(name)
    if problem is not None:
        return problem
    if len(name) > MAX_NAME_CHARS:
        return Reason.NAME_TOO_LONG
    if name.isascii():  # the common case; the rules below are about other characters
        return None
    return _look_problem(name)


def _look_problem(name: str) -> Reason | None:
    """Why ``name`` would not look like what it is (hidden, reordered, stacked)."""
    stacked = 0
    for index, ch in enumerate(name):
        if ch in _BIDI_CONTROLS:
            return Reason.NAME_BIDI
        category = unicodedata.category(ch)
        if category == "Cf" or ch in _BLANK_LETTERS:
            return Reason.NAME_INVISIBLE
        if category[0] == "M":
            stacked += 1
            if index == 0 or stacked > _MAX_STACKED_MARKS:
                return Reason.NAME_COMBINING
        else:
            stacked = 0
    return None


def canonical_name(name: str) -> str:
    """The form on which two names are the same user: how they look, not how they are coded.

    NFKC folds compatibility forms (fullwidth, ligatures, mathematical letters),
    case folding makes ``ALICE`` ``alice``, the look-alike table maps Cyrillic
    and Greek letters that are drawn like Latin ones, and runs of blanks count
    as one.  It decides uniqueness only; the name is shown as typed.
    """
    if name.isascii():
        return " ".join(name.lower().split())
    folded = unicodedata.normalize("NFKC", name).casefold().translate(_CONFUSABLES)
    return " ".join(unicodedata.normalize("NFKC", folded).split())


def wire_name_problem(name: str) -> Reason | None:
    """Return why ``name`` cannot travel in a datagram at all, or None.

    What any peer could misread: a comma splits a list reply, a colon moves
    the ``<user>: <text>`` boundary, control characters break one-line
    display and logs.  The length limit is our login policy, not a wire rule:
    other servers admit longer names, and we relay and show them as they are.
    """
    if not name:
        return Reason.NAME_EMPTY
    if name != name.strip():
        return Reason.NAME_WHITESPACE
    if "," in name:
        return Reason.NAME_COMMA
    if ":" in name:
        return Reason.NAME_COLON
    if not name.isprintable() and any(
        unicodedata.category(ch) in _FORBIDDEN_CATEGORIES for ch in name
    ):  # isprintable() is the C fast path; the categories decide the rare rest
        return Reason.NAME_CONTROL
    return None


def clean_name(raw: str) -> str:
    """Strip ``raw`` and return it as a valid name, or raise LocalProtocolError.

    For names typed by a person: surrounding blanks are forgiven, everything
    else is refused with a reason that can be shown to them.
    """
    name = raw.strip()
    problem = name_problem(name)
    if problem is not None:
        raise LocalProtocolError(problem, f"{REASONS[problem]}: {name!r}")
    return name
