"""Releases side by side, the one implementation every fleetops app uses (the edge app, the
platform receiver, ``fleetops edge rollback``, ``fleetops model deploy``): unpack a bundle into a
new release, install a directory of files verified by sha256 on the host, switch a link
atomically, switch back to the previous release, prune old ones."""

from __future__ import annotations

import posixpath
import shlex

import hashlib
from pathlib import Path

from pyinfra import host
from pyinfra.api import FileUploadCommand, StringCommand, operation
from pyinfra.api.exceptions import OperationValueError
from pyinfra.facts.files import Directory, Link, Sha256File


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
def verified_directory(path: str, sources: list[str], mode: str = "644"):
    """
    Install local files as the directory ``path``, checked by sha256 on the host before it exists.

    + path: the directory to create (e.g. ``models/<name>-<sha>``); never written in place: the
      files go to ``path.partial``, ``sha256sum -c`` checks them there, and only then is the
      directory renamed into place, so an interrupted or corrupted upload is never live
    + sources: local files (their base names are kept)
    + mode: of the installed files

    Nothing runs when every file at ``path`` already has the right sha256.
    """
    expected = {Path(source).name: hashlib.sha256(Path(source).read_bytes()).hexdigest() for source in sources}
    if all(host.get_fact(Sha256File, path=f"{path}/{name}") == digest for name, digest in expected.items()):
        host.noop(f"{path} verified")
        return
    partial = path + ".partial"
    q_path, q_partial = shlex.quote(path), shlex.quote(partial)
    yield StringCommand(f"rm -rf {q_partial} && mkdir -m 755 {q_partial}")
    for source in sources:
        yield FileUploadCommand(source, f"{partial}/{Path(source).name}")
    sums = "".join(f"{digest}  {name}\n" for name, digest in sorted(expected.items()))
    yield StringCommand(
        f"cd {q_partial} && printf %s {shlex.quote(sums)} | sha256sum --quiet -c - && "
        f"chmod {shlex.quote(mode)} {' '.join(shlex.quote(name) for name in sorted(expected))} && cd / && "
        f"rm -rf {q_path} && mv -T {q_partial} {q_path} || {{ rm -rf {q_partial}; exit 1; }}"
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
    yield StringCommand(
        f"ln -sfn {shlex.quote(target)} {shlex.quote(tmp)} && mv -T {shlex.quote(tmp)} {shlex.quote(path)}"
    )


@operation()
def switch_to_previous(path: str, parent: str):
    """
    Point symlink ``path`` at the newest entry of ``parent`` other than its current target (a
    rollback), and make the one rolled back from the newest of the others, so a second rollback
    rolls forward again.

    + path: the link (e.g. /opt/app/current)
    + parent: where the entries live side by side (e.g. /opt/app/releases)

    Fails (the host's operation, with the reason) when there is nothing to go back to.
    """
    from fleetops.facts.releases import SideBySide

    link = host.get_fact(Link, path=path)
    current = link.get("link_target") if link else None
    others = [
        entry["name"]
        for entry in host.get_fact(SideBySide, path=parent)
        if not entry["name"].endswith(".partial") and posixpath.join(parent, entry["name"]) != current
    ]
    if not others:
        raise OperationValueError(f"{path}: no previous entry in {parent} to switch back to")
    target = posixpath.join(parent, others[0])
    tmp = posixpath.join(posixpath.dirname(path), "." + posixpath.basename(path) + ".tmp")
    touch = f" && touch -c {shlex.quote(current)}" if current else ""
    yield StringCommand(
        f"ln -sfn {shlex.quote(target)} {shlex.quote(tmp)} && mv -T {shlex.quote(tmp)} {shlex.quote(path)}{touch}"
    )


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
    entries = [
        entry
        for entry in host.get_fact(SideBySide, path=path, kind="f" if files else "d")
        if not entry["name"].endswith(".partial")
    ]
    doomed = [entry["name"] for entry in entries[keep:] if entry["name"] not in protected]
    if not doomed:
        host.noop(f"{path}: {len(entries)} kept")
        return
    targets = " ".join(shlex.quote(posixpath.join(path, name)) for name in doomed)
    yield StringCommand(f"rm -rf -- {targets}")
