"""Secrets written by a non-root login through sudo (tests/e2e/test_security.py watches /tmp).

Every fleetops operation that uploads content: a managed file, a password hash, a SQL batch
(its upload happens before mysql runs, so the missing server on this host only fails the op
after the staging it tests)."""

from pyinfra.operations import files

from fleetops.operations.files import managed_file
from fleetops.operations.users import password_hash
from fleetops.secrets import Secret

CANARY = "CanarySudoStaged-4f2a91"
CANARY_HASH = "$6$sudostagecanary$CanarySudoStagedHash0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLM"

files.directory(name="Secret directory", path="/etc/fleetops-e2e", mode="700", _sudo=True)
managed_file(
    name="Secret file",
    path="/etc/fleetops-e2e/secret.conf",
    content=f"token = {CANARY}\n",
    mode="600",
    sensitive=True,
    backup=False,
    _sudo=True,
)
password_hash(name="Canary password", user="canary", hash=Secret(CANARY_HASH), _sudo=True)
