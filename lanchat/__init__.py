"""``lanchat``: the one command that starts the chat on this machine, on every OS.

``python -m lanchat`` (or ``lanchat``) starts a local server on loopback if none is
listening on the port, opens a chat window, and keeps that server while any window
it opened is open.  See ``launcher.py``.
"""
