"""``python3 -m agent``: see :mod:`.cli`."""

import sys

from .cli import main

sys.exit(main())
