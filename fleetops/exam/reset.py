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

    def line(self) -> str:
        if self.clean:
            return f"{self.host} clean (baseline {self.files} entries, hash as provisioned)"
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


def reset(sitting: Sitting, seats: list[SeatState], verify_only: bool = False, keep: bool = True) -> list[HostProof]:
    lab = Lab(sitting.lab)
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
