"""Foreign text made safe to show: nothing in it can hide, reorder or restyle.

Names and lines come from anyone on the LAN.  A GUI shows them as plain text
(never markup: that is the view's rule); this module removes the other ways
text can lie about itself, for any front end:

- Bidirectional controls (U+202E RIGHT-TO-LEFT OVERRIDE and its kin) reorder
  what follows them, so ``evil \\u202etxt.exe`` reads as ``evil exe.txt``.
  They are shown as visible marks like ``<U+202E>``.
- Invisible characters (zero-width space, word joiner, BOM, soft hyphen, ...)
  make ``alice`` and ``al\\u200bice`` look alike.  Shown as marks too.
- Control characters (possible in raw lines from foreign servers) are shown
  as Unicode control pictures (``\\x07`` -> U+2407) so every line stays one
  line.

ZERO WIDTH JOINER and NON-JOINER stay in chat text: emoji sequences and
Persian or Indic spelling need them.  In names every format character is
marked, because a name is what people use to tell each other apart.

``isolate`` wraps a piece of text in FIRST STRONG ISOLATE ... POP DIRECTIONAL
ISOLATE, so that a right-to-left line keeps its own direction without moving
the marks, names or timestamps shown beside it.
"""

from __future__ import annotations

import unicodedata

FSI = "\u2068"
PDI = "\u2069"

_JOINERS = frozenset("\u200c\u200d")  # legitimate inside words and emoji sequences


def _mark(ch: str) -> str:
    return f"<U+{ord(ch):04X}>"


def _picture(ch: str) -> str:
    code = ord(ch)
    if code < 0x20:
        return chr(0x2400 + code)  # the control pictures block: U+2400..U+241F
    if code == 0x7F:
        return "\u2421"
    return _mark(ch)


def _needs_work(text: str) -> bool:
    # str.isprintable() is False for every character handled here (Cc, Cf, Zl,
    # Zp, and the separators other than space), so ordinary text costs one C call.
    return not text.isprintable()


def shown_text(text: str) -> str:
    """A chat line or raw datagram as it may be displayed."""
    if not _needs_work(text):
        return text
    out = []
    for ch in text:
        if ch.isprintable() or ch in _JOINERS or ch == "\t":
            out.append(ch)
        elif unicodedata.category(ch) == "Cc":
            out.append(_picture(ch))
        elif unicodedata.category(ch) in ("Zs", "Co"):
            out.append(ch)  # blanks (U+3000 ideographic space) and private-use glyphs show
        else:  # format (bidi, zero-width), line/paragraph separators, unassigned
            out.append(_mark(ch))
    return "".join(out)


def shown_name(name: str) -> str:
    """A user name as it may be displayed: every invisible character marked."""
    if not _needs_work(name):
        return name
    out = []
    for ch in name:
        category = unicodedata.category(ch)
        if category == "Cc":
            out.append(_picture(ch))
        elif category == "Co" or ch.isprintable():  # the space is printable, U+00A0 is not
            out.append(ch)
        else:  # every blank but the space, format characters, unassigned code points
            out.append(_mark(ch))
    return "".join(out)


def isolate(text: str) -> str:
    """``text`` in a direction island of its own (FSI ... PDI)."""
    return f"{FSI}{text}{PDI}"
