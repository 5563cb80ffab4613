"""``lanchat``: the one command that starts the chat on this machine, on every OS.

``python -m lanchat`` (or ``lanchat``) starts a local server on loopback if none is
listening on the port, opens a chat window, and keeps that server while any window
it opened is open; a window last in a chat on the network opens that chat again instead
(``--local``: the local one anyway).  See ``launcher.py``.  ``options.py`` holds the
programs' shared command-line values; ``check.py`` the conformance kit.
"""
