"""``exam reset``: every seat back to its baseline, and proof that it is.

Lab seats: stop the host, move the candidate's upper layer to ``layers/`` (their work stays as
evidence), give it a new empty one, boot. Proof, per host: the baseline layer hashes to what the
ledger recorded at provision, and the upper layer holds nothing but what a booting system
writes by itself; otherwise every leftover is named (``+ user x``, ``~ /etc/nginx/...``).
``--verify-only`` checks without resetting (a planted leftover makes it fail).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from fleetops.exam import layers
from fleetops.exam.grading import _lowers
from fleetops.exam.sitting import SeatState, Sitting, now
from fleetops.lab.fleet import Lab


ACCOUNT_FILES = ("etc/passwd", "etc/group", "etc/shadow", "etc/gshadow", "etc/subuid", "etc/subgid")


@dataclass
class HostProof:
    host: str
    clean: bool
    baseline_ok: bool
    leftovers: list[str] = field(default_factory=list)
    files: int = 0
    how: str = "baseline layer hash as provisioned"

    def line(self) -> str:
        if self.clean:
            return f"{self.host} clean ({self.files} files, {self.how})"
        return (
            f"{self.host} differs: "
            + ", ".join(self.leftovers[:12])
            + (f" (+{len(self.leftovers) - 12} more)" if len(self.leftovers) > 12 else "")
        )


def verify_host(sitting: Sitting, lab: Lab, host: str) -> HostProof:
    baseline = lab.host_dir(host) / "baseline"
    upper = lab.host_dir(host) / "upper"
    if not baseline.is_dir():
        return HostProof(host, False, False, ["no baseline layer (not provisioned)"])
    digest, count = layers.layer_hash(baseline)
    baseline_ok = digest == sitting.baseline.get(host)
    lowers = _lowers(lab, host)
    leftovers: list[str] = []
    if not baseline_ok:
        leftovers.append(
            f"baseline layer hash {digest[:12]} is not the provisioned {sitting.baseline.get(host, '?')[:12]}"
        )
    accounts = layers.account_changes(upper, lowers)
    leftovers += accounts
    for change in layers.changes(upper, lowers):
        if accounts and change.path in (
            "etc/passwd",
            "etc/group",
            "etc/shadow",
            "etc/gshadow",
            "etc/subuid",
            "etc/subgid",
        ):
            continue
        if change.path.endswith("-") and change.path[:-1] in ("etc/passwd", "etc/group", "etc/shadow", "etc/gshadow"):
            continue
        leftovers.append(str(change))
    return HostProof(host, not leftovers, baseline_ok, leftovers, count)


def verify_real_host(sitting: Sitting, seat_host) -> HostProof:
    """A real host's fingerprint now against the one taken at provision."""
    from fleetops.exam import fingerprint
    from fleetops.exam.window import target

    taken = fingerprint.take(target(None, seat_host))
    if isinstance(taken, str):
        return HostProof(seat_host.host, False, False, [f"cannot fingerprint: {taken}"])
    baseline = sitting.read_json(f"baseline/{seat_host.host}.json")
    leftovers = fingerprint.diff(baseline, taken)
    return HostProof(
        seat_host.host, not leftovers, True, leftovers, len(taken.get("files", {})), "fingerprint as provisioned"
    )


def reset_real_host(sitting: Sitting, seat: SeatState, seat_host) -> None:
    """Put a real host back as far as its fingerprint and baseline copy allow: the candidate's
    account made afresh, added packages purged (changed versions downgraded when the archive still
    has them), added users and groups removed, added units disabled, added files under the tracked
    trees removed, changed or removed small files restored from the baseline copy. The exam's
    ``reset`` deploy runs after this; whatever still differs is named by the verification."""
    import shlex

    from fleetops.exam import fingerprint
    from fleetops.exam.window import target
    from fleetops.remote_exec import run_command

    host_target = target(None, seat_host)  # real hosts: their own connection data, no lab
    baseline = sitting.read_json(f"baseline/{seat_host.host}.json")
    run_command(host_target, f"userdel -r -f {shlex.quote(seat.user)} 2>/dev/null; true", timeout=60)
    taken = fingerprint.take(host_target)
    if isinstance(taken, str):
        return
    packages = sorted(set(taken["packages"]) - set(baseline["packages"]))
    users = sorted(set(taken["users"]) - set(baseline["users"]))
    groups = sorted(set(taken["groups"]) - set(baseline["groups"]) - set(users))
    units = sorted(set(taken["units"]) - set(baseline["units"]))
    files = sorted(set(taken["files"]) - set(baseline["files"]))
    downgrades = sorted(
        f"{name}={version}"
        for name, version in baseline["packages"].items()
        if name in taken["packages"] and taken["packages"][name] != version
    )
    commands = []
    if units:
        commands.append("systemctl disable --now " + " ".join(map(shlex.quote, units)) + " 2>/dev/null")
    if packages:
        commands.append("DEBIAN_FRONTEND=noninteractive apt-get purge -y -q " + " ".join(map(shlex.quote, packages)))
    if downgrades:  # best effort: only when the archive still has the baseline's version
        commands.append(
            "DEBIAN_FRONTEND=noninteractive apt-get install -y -q --allow-downgrades "
            + " ".join(map(shlex.quote, downgrades))
            + " >/dev/null 2>&1"
        )
    for user in users:
        commands.append(f"userdel -r -f {shlex.quote(user)} 2>/dev/null")
    for group in groups:
        commands.append(f"groupdel {shlex.quote(group)} 2>/dev/null")
    if files:
        commands.append("rm -f -- " + " ".join(map(shlex.quote, files)))
    if commands:
        run_command(host_target, "; ".join(commands) + "; true", timeout=900)
    # files changed or removed since the baseline: back from the baseline copy
    after = fingerprint.take(host_target)
    if isinstance(after, str):
        return
    changed = [p for p, v in baseline["files"].items() if after["files"].get(p) != v]
    archive = sitting.dir / "baseline" / f"{seat_host.host}.tar.gz"
    if changed and archive.exists():
        fingerprint.restore(host_target, archive, changed)


def reset(sitting: Sitting, seats: list[SeatState], verify_only: bool = False, keep: bool = True) -> list[HostProof]:
    lab = sitting.lab_or_none()
    if lab is None:
        return _reset_real(sitting, seats, verify_only)
    hosts = [h.host for seat in seats for h in seat.hosts]
    stamp = now().strftime("%Y%m%dT%H%M%SZ")
    archived: dict[str, str] = {}
    if not verify_only:
        for seat in seats:
            for seat_host in seat.hosts:
                lab.halt(seat_host.host)
                target: Path | None = sitting.dir / "layers" / stamp / seat.seat / seat_host.host if keep else None
                lab.replace_upper(seat_host.host, target)
                if target is not None:
                    archived[seat_host.host] = str(target.relative_to(sitting.dir))
            seat.started_at = seat.ends_at = seat.stopped_at = None
        lab.start(hosts)
    proofs = [verify_host(sitting, lab, host) for host in hosts]
    sitting.save()
    sitting.ledger.append(
        "reset-verify" if verify_only else "reset",
        {
            "hosts": {p.host: "clean" if p.clean else p.leftovers[:50] for p in proofs},
            "archived": archived,
        },
    )
    return proofs


def _reset_real(sitting: Sitting, seats: list[SeatState], verify_only: bool) -> list[HostProof]:
    from fleetops.exam.definition import load_exam
    from fleetops.fanout import per_host
    from fleetops.runner.deploy import DeployOptions, run_deploy
    from fleetops.tasks import task

    items = [(seat, h) for seat in seats for h in seat.hosts]
    if not verify_only:
        per_host(items, lambda item: reset_real_host(sitting, *item))
        folder = load_exam(Path(sitting.exam_path))
        limit = tuple(h.host for _s, h in items)
        inventory = sitting.dir / "inventory.py"
        if folder.exam.baseline.reset:
            run_deploy(
                DeployOptions(deploy_file=folder.path / folder.exam.baseline.reset, inventory=inventory, limit=limit)
            )
        run_deploy(DeployOptions(deploy_file=task("exam_accounts"), inventory=inventory, limit=limit))
        for seat in seats:
            seat.started_at = seat.ends_at = seat.stopped_at = None
    proofs = per_host(items, lambda item: verify_real_host(sitting, item[1]))
    sitting.save()
    sitting.ledger.append(
        "reset-verify" if verify_only else "reset",
        {"hosts": {p.host: "clean" if p.clean else p.leftovers[:50] for p in proofs}},
    )
    return proofs
