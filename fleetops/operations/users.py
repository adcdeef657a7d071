"""Account operations that keep secrets off remote command lines."""

from __future__ import annotations

import hashlib
import shlex
from pyinfra import host
from pyinfra.api import StringCommand, operation
from pyinfra.api.exceptions import OperationValueError

from fleetops.facts.users import ShadowState
from fleetops.operations.staging import private_upload
from fleetops.secrets import Secret

PRIVATE_DIR = "/root/.fleetops"


@operation()
def password_hash(user: str, hash: Secret):
    """
    Set a user's password hash without it ever appearing in a command line or log.

    + user: an existing account
    + hash: a crypt(3) hash wrapped in ``Secret``

    The ``user:hash`` line is uploaded over SFTP into a 0600 file inside a 0700 directory (staged
    privately under ``_sudo``, see :mod:`fleetops.operations.staging`) and fed to ``chpasswd -e`` on stdin; the file is removed whatever happens. Idempotence compares
    sha256 digests, so the hash is not read back either.

    **Example:**

    .. code:: python

        password_hash(user="alice", hash=Secret("$6$..."))
    """
    if not isinstance(hash, Secret):
        raise OperationValueError("password_hash needs the hash wrapped in fleetops.secrets.Secret")
    current = host.get_fact(ShadowState, user=user)  # None: created earlier in this run
    desired = hashlib.sha256((hash.reveal() + "\n").encode()).hexdigest()
    if current is not None and current["hash_sha256"] == desired:
        host.noop(f"password of {user} is up to date")
        return
    secret_file = f"{PRIVATE_DIR}/chpasswd-{user}"
    q_file = shlex.quote(secret_file)
    yield from private_upload(
        f"{user}:{hash.reveal()}\n", secret_file, prepare=f"install -d -m 700 {shlex.quote(PRIVATE_DIR)}"
    )
    yield StringCommand(f"chpasswd -e < {q_file}; rc=$?; rm -f {q_file}; exit $rc")


@operation()
def account_state(user: str, locked: bool = False, expired: bool = False):
    """
    Lock or unlock a user's password and expire or un-expire the account.

    + user: an existing account
    + locked: password locked (``usermod -L``); an account without a password stays as it is
      when unlocking, since unlocking it would make it passwordless
    + expired: account expired (``chage -E 0``), which refuses every login, SSH keys included

    **Example:**

    .. code:: python

        account_state(user="leaver", locked=True, expired=True)
    """
    # A user created earlier in this run has no facts yet: enforce the wanted state outright
    # (usermod -L leaves an already-locked password alone, so this is safe).
    current = host.get_fact(ShadowState, user=user)
    q_user = shlex.quote(user)
    changed = False
    if current is None:
        if locked:
            changed = True
            yield StringCommand(f"usermod -L {q_user}")
        if expired:
            changed = True
            yield StringCommand(f"chage -E 0 {q_user}")
        if not changed:
            host.noop(f"new account {user} needs no lock or expiry")
        return
    if locked and not current["locked"]:
        changed = True
        yield StringCommand(f"usermod -L {q_user}")
    elif not locked and current["locked"] and current["has_password"]:
        changed = True
        yield StringCommand(f"usermod -U {q_user}")
    is_expired = current["expire_day"] is not None and current["expire_day"] <= 1
    if expired and not is_expired:
        changed = True
        yield StringCommand(f"chage -E 0 {q_user}")
    elif not expired and current["expire_day"] is not None:
        changed = True
        yield StringCommand(f"chage -E -1 {q_user}")
    if not changed:
        host.noop(f"account state of {user} is up to date")
