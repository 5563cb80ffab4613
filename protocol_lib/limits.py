"""The protocol's size limits, imported wherever a rule or a sentence needs them."""

from __future__ import annotations

MAX_DATAGRAM_BYTES = 1024
"""Every known peer reads with ``recvfrom(1024)``: a longer datagram is cut."""

MAX_NAME_CHARS = 32
"""Upper bound in characters: about 30 maximal names still fit one list reply."""
