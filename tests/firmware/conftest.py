from __future__ import annotations

from pathlib import Path

import pytest

from fleetops.firmware import bundle
from fleetops.firmware.pki import make_pki
from fleetops.roles.firmware import FACTORY


@pytest.fixture(scope="session")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("pki"), "fleet release signer")


@pytest.fixture(scope="session")
def rogue(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("rogue"), "fleet release signer")


@pytest.fixture(scope="session")
def good_bundle(pki, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("bundles") / "fw-2.0.0.swu"
    bundle.build(FACTORY, "2.0.0", pki.signer_key, pki.signer_cert, out, "edge-gw", ("1.0", "1.1"))
    return out
