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

from fleetops.exam import layers
from fleetops.exam.grading import _lowers
from fleetops.exam.ledger import file_sha256
from fleetops.exam.sitting import SeatState, Sitting
from fleetops.fileutil import private_dir
from fleetops.lab.fleet import Lab
from fleetops.lab.userns import unshift


@dataclass
class Collected:
    candidate_id: str
    files: int
    bytes: int


def collect(sitting: Sitting, seats: list[SeatState]) -> list[Collected]:
    lab = Lab(sitting.lab)
    base = sitting.uid_base
    out = []
    recorded: dict[str, str] = {}
    for seat in seats:
        folder = private_dir(sitting.dir / "evidence" / seat.candidate_id)
        manifest: dict[str, dict] = {}
        total = 0
        for seat_host in seat.hosts:
            upper = lab.host_dir(seat_host.host) / "upper"
            changed = layers.changes(upper, _lowers(lab, seat_host.host))
            archive = folder / f"{seat_host.host}.tar.gz"
            fd = os.open(archive, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
                for change in changed:
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
                    manifest[f"{seat_host.host}:/{change.path}"] = entry
            recorded[str(archive.relative_to(sitting.dir))] = file_sha256(archive)
        sha = sitting.write_json(f"evidence/{seat.candidate_id}/manifest.json", manifest)
        recorded[f"evidence/{seat.candidate_id}/manifest.json"] = sha
        out.append(Collected(seat.candidate_id, len(manifest), total))
    sitting.ledger.append("collect", {"seats": [s.seat for s in seats]}, files=recorded)
    return out
