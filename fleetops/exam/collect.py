"""``exam collect``: each candidate's changes as evidence, with a sha256 manifest.

On lab seats the upper layer is exactly the candidate's changes; it is archived from the
controller (volatile paths left out) as ``evidence/<candidate>/<host>.tar.gz`` with
``manifest.json`` listing every file's sha256. The manifest's hash goes to the ledger, so the
evidence can be re-verified (``exam audit --verify``) long after the seats are reset.
"""

from __future__ import annotations

import hashlib
import os
import stat
import tarfile
from dataclasses import dataclass
from pathlib import Path

from fleetops.exam import layers
from fleetops.exam.grading import _lowers
from fleetops.exam.ledger import file_sha256
from fleetops.exam.sitting import SeatHost, SeatState, Sitting
from fleetops.fileutil import atomic_write_bytes, private_dir
from fleetops.lab.fleet import Lab
from fleetops.lab.userns import unshift


@dataclass
class Collected:
    candidate_id: str
    files: int
    bytes: int


def collect(sitting: Sitting, seats: list[SeatState]) -> list[Collected]:
    """Each seat's evidence under ``evidence/<candidate>/``: one archive per host and one
    manifest; every file's hash goes to the ledger."""
    lab = sitting.lab_or_none()
    out = []
    recorded: dict[str, str] = {}
    for seat in seats:
        folder = private_dir(sitting.dir / "evidence" / seat.candidate_id)
        manifest: dict[str, dict] = {}
        total = 0
        for seat_host in seat.hosts:
            archive = folder / f"{seat_host.host}.tar.gz"
            if lab is not None:
                entries, size, written = _from_layer(lab, sitting.uid_base, seat_host.host, archive)
            else:
                entries, size, written = _from_real_host(sitting, seat_host, archive)
            manifest.update(entries)
            total += size
            if written:
                recorded[str(archive.relative_to(sitting.dir))] = file_sha256(archive)
        sha = sitting.write_json(f"evidence/{seat.candidate_id}/manifest.json", manifest)
        recorded[f"evidence/{seat.candidate_id}/manifest.json"] = sha
        out.append(Collected(seat.candidate_id, len(manifest), total))
    sitting.ledger.append("collect", {"seats": [s.seat for s in seats]}, files=recorded)
    return out


def _from_layer(lab: Lab, base: int | None, host: str, archive: Path) -> tuple[dict[str, dict], int, bool]:
    """Lab seats: the host's upper layer (volatile paths left out), read from the controller."""
    upper = lab.host_dir(host) / "upper"
    entries: dict[str, dict] = {}
    total = 0
    fd = os.open(archive, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
        for change in layers.changes(upper, _lowers(lab, host)):
            path = upper / change.path
            info = os.lstat(path)
            entry = {
                "change": change.kind,
                "mode": f"{stat.S_IMODE(info.st_mode):04o}",
                "uid": unshift(info.st_uid, base),
                "mtime": layers.utc(change.mtime),
            }
            if stat.S_ISREG(info.st_mode):
                data = path.read_bytes()
                entry["sha256"] = hashlib.sha256(data).hexdigest()
                entry["size"] = len(data)
                total += len(data)
            if change.kind != "removed":
                tar.add(path, arcname=change.path, recursive=False)
            entries[f"{host}:/{change.path}"] = entry
    return entries, total, True


def _from_real_host(sitting: Sitting, seat_host: SeatHost, archive: Path) -> tuple[dict[str, dict], int, bool]:
    """Real hosts: every file the fingerprint says was added or changed under the tracked trees,
    archived on the host (tar, base64 over the SSH channel)."""
    import base64
    import shlex

    from fleetops.exam import fingerprint
    from fleetops.exam.window import target
    from fleetops.remote_exec import run_command

    host_target = target(None, seat_host)
    taken = fingerprint.take(host_target)
    if isinstance(taken, str):
        return {f"{seat_host.host}:": {"error": taken}}, 0, False
    baseline = sitting.read_json(f"baseline/{seat_host.host}.json")
    changed = sorted(p for p, v in taken["files"].items() if baseline["files"].get(p) != v)[:2000]
    entries: dict[str, dict] = {}
    for path in changed:
        digest, mode, owner = taken["files"][path].rsplit(" ", 2)  # a link target may hold spaces
        entries[f"{seat_host.host}:{path}"] = {
            "change": "modified" if path in baseline["files"] else "added",
            "sha256": digest,
            "mode": mode,
            "owner": owner,
        }
    if not changed:
        return entries, 0, False
    answer = run_command(
        host_target, "tar -czf - -- " + " ".join(map(shlex.quote, changed)) + " 2>/dev/null | base64 -w0", 600
    )
    if isinstance(answer, str):
        return {**entries, f"{seat_host.host}:": {"error": answer}}, 0, False
    data = base64.b64decode(answer[1])
    atomic_write_bytes(archive, data)
    return entries, len(data), True
