"""Baseline every host: `fleetops deploy deploys/baseline.py` (or plain `pyinfra INV deploys/baseline.py`)."""

from fleetops.roles.baseline import baseline

baseline()
