"""Upload content that may be secret without it ever being readable by anyone else on the host.

Logged in as root, pyinfra writes straight to the destination, which fleetops pre-creates with
mode 0600. With ``_sudo`` (a non-root login, the usual production set-up), pyinfra first uploads
to a staging file as the login user and then copies it into place under sudo; by default that
staging file is ``/tmp/pyinfra-<sha1 of the path>``: a predictable name, created 0644. Here the
staging file lives instead in a fresh directory with an unguessable name, created 0700 and owned
by the login user (``$SUDO_USER`` under sudo), so neither its name nor its content is reachable
by another account at any moment; the directory is removed right after the copy.
"""

from __future__ import annotations

import secrets
import shlex
from collections.abc import Iterator
from io import StringIO

from pyinfra.api import FileUploadCommand, StringCommand

STAGE_ROOT = "/tmp"


def stage_dir() -> str:
    """A new staging directory name (128 random bits; ``mkdir`` fails if it exists)."""
    return f"{STAGE_ROOT}/fleetops-stage-{secrets.token_hex(16)}"


def private_upload(content: str, dest: str, prepare: str | None = None) -> Iterator[object]:
    """Commands that put ``content`` at ``dest`` (pre-created 0600), staged privately.

    ``prepare`` runs first in the same command (e.g. creating the destination's directory).
    The caller removes nothing: the last command deletes the staging directory; if the upload
    itself fails, what is left is inside a 0700 directory of the login user.
    """
    stage = stage_dir()
    q_stage, q_dest = shlex.quote(stage), shlex.quote(dest)
    steps = [prepare] if prepare else []
    steps += [
        f"install -m 600 /dev/null {q_dest}",
        f"(umask 077 && mkdir -m 700 {q_stage})",
        f'if [ -n "${{SUDO_USER:-}}" ]; then chown "$SUDO_USER" {q_stage}; fi',
    ]
    yield StringCommand(" && ".join(steps))
    yield FileUploadCommand(StringIO(content), dest, remote_temp_filename=f"{stage}/upload")
    yield StringCommand(f"rm -rf {q_stage}")
