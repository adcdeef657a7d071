"""Operations for releases side by side: unpack a bundle into a new release, switch a link atomically."""

from __future__ import annotations

import posixpath
import shlex

from pyinfra import host
from pyinfra.api import StringCommand, operation
from pyinfra.facts.files import Directory, Link


@operation()
def bundle_release(bundle: str, release: str, python: str = "python3"):
    """
    Install an offline bundle (app + wheels) as ``release``, once: venv, ``pip --no-index``.

    + bundle: the uploaded tarball on the host
    + release: the release directory to create (absent: it is built in ``release.partial`` and
      renamed only when the install succeeded, so a failed install never looks like a release)
    """
    if host.get_fact(Directory, path=release):
        host.noop(f"{release} is installed")
        return
    q_release, q_tmp = shlex.quote(release), shlex.quote(release + ".partial")
    yield StringCommand(
        f"rm -rf {q_tmp} && mkdir -p {q_tmp} && tar -xzf {shlex.quote(bundle)} -C {q_tmp} && "
        f"{shlex.quote(python)} -m venv {q_tmp}/venv && "
        f"{q_tmp}/venv/bin/pip install --quiet --disable-pip-version-check --no-index "
        f"--find-links {q_tmp}/wheels -r {q_tmp}/requirements.txt && "
        f"rm -rf {q_tmp}/wheels && mv -T {q_tmp} {q_release}"
    )


@operation()
def atomic_link(path: str, target: str):
    """
    Point symlink ``path`` at ``target`` with a rename, so readers never see it missing.

    + path: the link (e.g. /opt/app/current)
    + target: what it should point to
    """
    current = host.get_fact(Link, path=path)
    if current and current.get("link_target") == target:
        host.noop(f"{path} -> {target}")
        return
    tmp = posixpath.join(posixpath.dirname(path), "." + posixpath.basename(path) + ".tmp")
    yield StringCommand(f"ln -sfn {shlex.quote(target)} {shlex.quote(tmp)} && "
                        f"mv -T {shlex.quote(tmp)} {shlex.quote(path)}")


@operation()
def prune(path: str, keep: int, protect: list[str] | None = None, files: bool = False):
    """
    Remove all but the ``keep`` newest directories (or with ``files``, files) under ``path``.

    + path: the parent directory (e.g. /opt/app/releases)
    + keep: how many of the newest to keep (the protected ones are always kept too)
    + protect: names never removed (e.g. what the ``current`` links point to)
    + files: prune plain files (uploaded bundles) instead of directories

    Unfinished ``.partial`` directories are left to the step that builds them.
    """
    from fleetops.facts.releases import SideBySide

    protected = set(protect or [])
    entries = [entry for entry in host.get_fact(SideBySide, path=path, kind="f" if files else "d")
               if not entry["name"].endswith(".partial")]
    doomed = [entry["name"] for entry in entries[keep:] if entry["name"] not in protected]
    if not doomed:
        host.noop(f"{path}: {len(entries)} kept")
        return
    targets = " ".join(shlex.quote(posixpath.join(path, name)) for name in doomed)
    yield StringCommand(f"rm -rf -- {targets}")
