"""Atomic, validated config files: the safe way to replace what a service reads."""

from __future__ import annotations

import difflib
import hashlib
import posixpath
import shlex
from pyinfra import host, logger
from pyinfra.api import StringCommand, operation
from pyinfra.api.exceptions import OperationValueError
from pyinfra.context import state
from pyinfra.facts.files import File, FileContents, Sha256File

from fleetops.operations.staging import private_upload


@operation()
def managed_file(
    path: str,
    content: str,
    mode: str = "644",
    user: str = "root",
    group: str = "root",
    validate: str | None = None,
    validate_installed: str | None = None,
    backup: bool = True,
    sensitive: bool = False,
):
    """
    Install ``content`` at ``path`` atomically, validating it before it can take effect.

    + path: absolute destination path
    + content: the full file content (rendered template)
    + mode/user/group: set on the temporary file before it is renamed into place
    + validate: command run on the temporary file first; ``{}`` is replaced by its quoted path
      (e.g. ``visudo -cf {}``); on failure the temporary file is removed and nothing changes
    + validate_installed: command run after the rename (e.g. ``sshd -t`` for a drop-in that
      cannot be checked alone); on failure the backup is restored
    + backup: keep the previous version as ``<path>.fleetops-bak``
    + sensitive: never show a diff (content holds secrets)

    The temporary file lives in the destination directory, so the final ``mv`` is an atomic
    rename. Only mode/owner are fixed when the content already matches.

    **Example:**

    .. code:: python

        managed_file(
            name="Allow ops to sudo",
            path="/etc/sudoers.d/fleetops-ops",
            content="%ops ALL=(ALL) ALL\\n",
            mode="440",
            validate="visudo -cf {}",
        )
    """
    if not mode.isdigit() or len(mode) not in (3, 4):
        raise OperationValueError(f"managed_file mode must be octal digits like '644', got {mode!r}")
    if not posixpath.isabs(path):
        raise OperationValueError(f"managed_file needs an absolute path, got {path!r}")
    directory, base = posixpath.split(path)
    tmp = posixpath.join(directory, f".{base}.fleetops-tmp")
    q_path, q_tmp, q_bak = (shlex.quote(p) for p in (path, tmp, path + ".fleetops-bak"))
    desired_sha = hashlib.sha256(content.encode()).hexdigest()
    info = host.get_fact(File, path=path)
    current_sha = host.get_fact(Sha256File, path=path) if info else None

    if current_sha != desired_sha:
        if state.config.DIFF and not sensitive:
            current = host.get_fact(FileContents, path=path) if info else None
            current_lines = [line + "\n" for line in current or []]
            host.log(f"Will {'modify' if info else 'create'} {path}", logger.info)
            for line in difflib.unified_diff(current_lines, content.splitlines(keepends=True), n=1):
                if not line.startswith(("---", "+++")):  # "+ added", "- removed", as pyinfra shows them
                    text = line.rstrip("\n")
                    logger.info("  %s", text if text.startswith("@@") else f"{text[:1]} {text[1:]}")
        yield from private_upload(content, tmp)
        steps = [f"chown {shlex.quote(f'{user}:{group}')} {q_tmp}", f"chmod {shlex.quote(mode)} {q_tmp}"]
        if validate:
            steps.append(f"{{ {validate.replace('{}', q_tmp)} ; }} || {{ rm -f {q_tmp}; exit 1; }}")
        if backup:
            steps.append(f"if [ -e {q_path} ]; then cp -a {q_path} {q_bak}; fi")
        steps.append(f"mv -f {q_tmp} {q_path}")
        if validate_installed:
            restore = (
                f"if [ -e {q_bak} ]; then cp -a {q_bak} {q_path}; else rm -f {q_path}; fi"
                if backup
                else f"rm -f {q_path}"
            )
            steps.append(f"{{ {validate_installed} ; }} || {{ {restore}; exit 1; }}")
        yield StringCommand(" && ".join(steps))
        return

    assert info, "a file whose sha256 matched exists"
    fixed = False
    if (info["user"], info["group"]) != (user, group):
        fixed = True
        yield StringCommand(f"chown {shlex.quote(f'{user}:{group}')} {q_path}")
    if info["mode"] != int(mode):  # pyinfra reports modes as octal digits, e.g. 644
        fixed = True
        yield StringCommand(f"chmod {shlex.quote(mode)} {q_path}")
    if not fixed:
        host.noop(f"{path} is up to date")
