"""``python -m lanchat``: see launcher.py."""

import sys

from .launcher import main

sys.exit(main())
