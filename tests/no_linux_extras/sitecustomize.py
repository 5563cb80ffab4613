"""Make this interpreter look like one on Windows as far as our code can tell: no
``fcntl``, and ``socket`` without MSG_DONTWAIT, SO_REUSEPORT and SO_RCVBUFFORCE.

Put this folder first on PYTHONPATH and every Python process started with that
environment (a test run, the servers and clients it starts) runs without those
Linux extras: the seams in protocol_lib/io/net.py and qml_client/name_hold.py
take the branch they take on Windows (and, for SO_RCVBUFFORCE, macOS).
"""

import socket
import sys

sys.modules["fcntl"] = None  # type: ignore[assignment]  # "import fcntl" raises ImportError
for _name in ("MSG_DONTWAIT", "SO_REUSEPORT", "SO_RCVBUFFORCE"):
    if hasattr(socket, _name):
        delattr(socket, _name)
