"""Seat fingerprints on real hosts (seats mapped onto an inventory): taken at provision, taken
again at reset, compared item by item so every leftover is named.

On lab seats the layers are the proof (:mod:`fleetops.exam.reset`); a real host has no layer, so
its state is summarised instead by :mod:`fleetops.exam.fingerprint_probe`. A candidate with root
on a real host could fake what that script reads (documented): the fingerprint proves a reset
against honest hosts and names leftovers, it is not tamper-proof the way a layer is.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from fleetops.checking.target import SshTarget
from fleetops.remote_exec import run_command

SCRIPT = Path(__file__).with_name("fingerprint_probe.py")


def take(target: SshTarget, attempts: int = 6) -> dict | str:
    """The host's fingerprint, or why it could not be taken. A refused connection is retried for
    a few seconds: provision reloads sshd just before (its listener re-executes on SIGHUP)."""
    import time

    command = "python3 - <<'FLEETOPS_FINGERPRINT'\n" + SCRIPT.read_text() + "\nFLEETOPS_FINGERPRINT\n"
    answer = run_command(target, command, timeout=300)
    for attempt in range(1, attempts):
        if not (isinstance(answer, str) and answer.startswith("unreachable")):
            break
        time.sleep(0.5 * attempt)
        answer = run_command(target, command, timeout=300)
    if isinstance(answer, str):
        return answer
    code, out, err = answer
    if code != 0:
        return f"fingerprint failed (exit {code}): {err.strip()[-200:]}"
    try:
        return json.loads(out)
    except ValueError:
        return "fingerprint: unreadable answer"


def digest(fingerprint: dict) -> str:
    return hashlib.sha256(json.dumps(fingerprint, sort_keys=True).encode()).hexdigest()


def diff(before: dict, after: dict) -> list[str]:
    """Every difference, named: ``+ user x``, ``~ package nginx 1.22 -> 1.24``, ``~ /etc/x``."""
    out: list[str] = []

    def mapping(key: str, what: str, show_value: bool = False) -> None:
        old, new = before.get(key, {}), after.get(key, {})
        out.extend(f"+ {what} {name}" for name in sorted(set(new) - set(old)))
        out.extend(f"- {what} {name}" for name in sorted(set(old) - set(new)))
        for name in sorted(set(old) & set(new)):
            if old[name] != new[name]:
                out.append(f"~ {what} {name}" + (f" {old[name]} -> {new[name]}" if show_value else ""))

    def listing(key: str, what: str) -> None:
        old, new = set(before.get(key, [])), set(after.get(key, []))
        out.extend(f"+ {what} {name}" for name in sorted(new - old))
        out.extend(f"- {what} {name}" for name in sorted(old - new))

    mapping("users", "user")
    mapping("groups", "group")
    mapping("locks", "password of")
    mapping("packages", "package", show_value=True)
    listing("units", "enabled unit")
    listing("ports", "listening port")
    listing("crontabs", "crontab of")
    old_files, new_files = before.get("files", {}), after.get("files", {})
    out.extend(f"+ {path}" for path in sorted(set(new_files) - set(old_files)))
    out.extend(f"- {path}" for path in sorted(set(old_files) - set(new_files)))
    out.extend(f"~ {path}" for path in sorted(set(old_files) & set(new_files)) if old_files[path] != new_files[path])
    return out


def summary(fingerprint: dict) -> str:
    return (
        f"{len(fingerprint.get('files', {}))} files, {len(fingerprint.get('packages', {}))} packages, "
        f"{len(fingerprint.get('units', []))} units, {len(fingerprint.get('ports', []))} ports"
    )


# Files a reset on a real host can put back: small files of the trees candidates edit.
SNAPSHOT_TREES = ("/etc", "/srv", "/var/www", "/root", "/home", "/usr/local")
SNAPSHOT = (
    "find " + " ".join(SNAPSHOT_TREES) + " -xdev \\( -type f -size -1024k -o -type l \\) "
    "-not -path '/root/.fleetops/*' -not -path '/root/.cache/*' -print0 2>/dev/null "
    "| tar -czf - --null -T - 2>/dev/null | base64 -w0"
)


def snapshot(target: SshTarget) -> bytes | str:
    """A tar.gz of the host's small tracked files (its baseline copy), or why not."""
    import base64

    answer = run_command(target, SNAPSHOT, timeout=600)
    if isinstance(answer, str):
        return answer
    try:
        return base64.b64decode(answer[1])
    except ValueError:
        return "snapshot: unreadable answer"


def restore(target: SshTarget, archive: Path, paths: list[str]) -> str | None:
    """Put ``paths`` back from the baseline archive (uploaded over SFTP, 0600, removed after)."""
    import shlex

    if not paths:
        return None
    remote = "/root/.fleetops/exam-baseline.tar.gz"
    client = target.connect(timeout=10)
    try:
        client.exec_command("install -d -m 700 /root/.fleetops")[1].channel.recv_exit_status()
        sftp = client.open_sftp()
        try:
            sftp.put(str(archive), remote)
            sftp.chmod(remote, 0o600)
        finally:
            sftp.close()
    finally:
        client.close()
    members = " ".join(shlex.quote(p.lstrip("/")) for p in paths)
    answer = run_command(target, f"tar -xzpf {remote} -C / -- {members} 2>&1; rc=$?; rm -f {remote}; exit $rc", 300)
    if isinstance(answer, str):
        return answer
    return None if answer[0] == 0 else answer[1][-300:]
