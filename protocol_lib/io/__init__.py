"""The I/O side of the fence: sockets, a waker, stop signals, command-line options.

In the style of aioquic's ``quic/`` (no I/O) and ``asyncio/`` (I/O) folders: the
core modules of ``protocol_lib`` decide everything from bytes, addresses and
times, and never import this package (tests/test_fence.py proves it); the
server, the client, tests and benchmarks take their sockets and options from
here, so each of these things exists once.
"""
