"""Other people's implementations of the protocol, as the interop notes describe them.

Plain ``socket`` code in the style of the course's student implementations, and
deliberately NOT built on protocol_lib: they stand for code we do not control,
so our server and client are tested against what really exists.  Every socket
is pinned to the interface the test passes (127.0.0.1, or an address inside a
test's own network namespace).
"""
