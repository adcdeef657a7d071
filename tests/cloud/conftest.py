"""One in-process moto EC2 emulator per test session (its first call loads moto's data, ~3 s)."""

from __future__ import annotations

import logging

import pytest

from tests.cloud.moto_server import MotoEc2


@pytest.fixture(scope="session")
def moto_ec2():
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = MotoEc2()
    yield server
    server.stop()


@pytest.fixture
def ec2(moto_ec2, isolated_state):
    """A clean emulator and a clean fleetops state directory for one test."""
    moto_ec2.reset()
    moto_ec2.faults.rules.clear()
    moto_ec2.faults.seen.clear()
    return moto_ec2


@pytest.fixture(scope="session")
def fake_ecs_server():
    from tests.cloud.fake_ecs import FakeEcs, serve

    fake = FakeEcs()
    server = serve(fake)
    yield fake, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture
def ecs(fake_ecs_server, isolated_state, monkeypatch):
    """The fake ECS, emptied, and the SDK credentials it accepts."""
    from tests.cloud.fake_ecs import KEY_ID, SECRET

    fake, endpoint = fake_ecs_server
    fake.reset()
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", KEY_ID)
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET)
    fake.endpoint = endpoint
    return fake
