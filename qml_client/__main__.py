"""``python -m qml_client`` / ``lanchat-client``: open a chat window."""

import sys

from .app import main

if __name__ == "__main__":
    sys.exit(main())
