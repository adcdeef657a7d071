"""Shared test set-up. gevent must patch the standard library before anything opens sockets,
exactly as the fleetops deploy runner (and pyinfra's CLI) do."""

from gevent import monkey

monkey.patch_all()

import pytest  # noqa: E402


@pytest.fixture
def isolated_state(tmp_path, monkeypatch):
    """Run records and lab state go to a temporary directory."""
    monkeypatch.setenv("FLEETOPS_STATE_DIR", str(tmp_path / "state"))
    return tmp_path / "state"
