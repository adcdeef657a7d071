"""``python -m fleetops.cli``: the same as the ``fleetops`` console script (a control node's
wrapper uses it, since a relocated venv's console scripts keep their build-time shebang)."""

from fleetops.cli import main

main()
