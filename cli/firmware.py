"""``fleetops firmware``: signed A/B firmware bundles for gateways, and health-gated updates."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from fleetops.cli.options import inventory_options, output_options

EXIT_OK, EXIT_FAILED, EXIT_STOPPED = 0, 1, 7


@click.group()
def firmware() -> None:
    """A/B firmware (SWUpdate) on gateways that declare group data ``firmware``.

    \b
    fleetops firmware pki --out pki --signer-name "fleet release signer"
    fleetops firmware build rootfs/ --version 2.0.0 --key pki/signer.key --cert pki/signer.pem \\
        --board edge-gw --revision 1.0 --out fw-2.0.0.swu
    fleetops firmware verify fw-2.0.0.swu --ca pki/ca.pem
    fleetops firmware update fw-2.0.0.swu --canary 1 --max-fail 0
    fleetops firmware status
    fleetops firmware history --limit gw1
    fleetops firmware rollback --limit gw1 --yes
    """


@firmware.command()
@click.option("--out", "out", required=True, type=click.Path(path_type=Path), help="Directory for the four files.")
@click.option("--signer-name", required=True, help="The release signer's common name (pinned on gateways).")
@click.option("--force", is_flag=True, help="Replace an existing PKI in --out.")
def pki(out: Path, signer_name: str, force: bool) -> None:
    """Make a signing CA and a release signer (ca.pem, ca.key, signer.pem, signer.key; keys 0600)."""
    from fleetops.errors import InputError
    from fleetops.firmware.pki import make_pki

    existing = [name for name in ("ca.pem", "ca.key", "signer.pem", "signer.key") if (out / name).exists()]
    if existing and not force:
        raise InputError(f"--out {out}: {', '.join(existing)} already exist (--force replaces them)")
    made = make_pki(out, signer_name)
    click.echo(f"CA {made.ca_cert} and signer {made.signer_cert} ({signer_name!r}); keep {made.ca_key} offline")


@firmware.command()
@click.argument("rootdir", type=click.Path(path_type=Path))
@click.option("--version", "version", required=True, help="Firmware version, e.g. 2.0.0 (written to etc/fw-version).")
@click.option("--key", required=True, type=click.Path(path_type=Path), help="The signer's private key (PEM).")
@click.option("--cert", required=True, type=click.Path(path_type=Path), help="The signer's certificate (PEM).")
@click.option("--board", required=True, help="The board the bundle is for (first word of /etc/hwrevision).")
@click.option("--revision", "revisions", required=True, multiple=True, help="A hardware revision it fits (repeatable).")
@click.option("--out", "out", required=True, type=click.Path(path_type=Path), help="The .swu file to write.")
@click.option("--installed-directly", is_flag=True, help="Stream the image into the slot (no copy in TMPDIR first).")
def build(rootdir, version, key, cert, board, revisions, out, installed_directly) -> None:
    """Make a signed .swu bundle of ROOTDIR (the firmware tree a slot holds)."""
    from fleetops.firmware.bundle import build as build_bundle

    described = build_bundle(rootdir, version, key, cert, out, board, tuple(revisions), installed_directly)
    click.echo(f"{out}: firmware {described.version} for {described.board} {', '.join(described.revisions)}, signed")


@firmware.command()
@click.argument("bundle", type=click.Path(path_type=Path))
@click.option("--ca", required=True, type=click.Path(path_type=Path), help="The CA the signature must chain to.")
@click.option("--signer-name", help="Require this signer common name.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON on stdout.")
def verify(bundle: Path, ca: Path, signer_name: str | None, as_json: bool) -> None:
    """Check BUNDLE's signature, payload hashes and description. Exit 1 when it must be refused."""
    from fleetops.cli.render import print_json
    from fleetops.firmware.verify import BundleRefused, verify_bundle

    try:
        verified = verify_bundle(bundle, ca, signer_name)
    except BundleRefused as refused:
        if as_json:
            print_json({"bundle": bundle.name, "ok": False, "refused": str(refused)})
        click.echo(f"fleetops: refused: {bundle.name}: {refused}", err=True)
        sys.exit(EXIT_FAILED)
    if as_json:
        print_json({"ok": True, **verified.to_dict()})
    else:
        click.echo(
            f"{bundle.name}: ok — firmware {verified.version} for {verified.board} "
            f"{', '.join(verified.revisions)}, signed by {verified.signer!r}, sha256 {verified.sha256[:16]}…"
        )


def _verified_for(bundle: Path, hosts, ca: Path | None, signer_name: str | None):
    """Verify once per distinct (CA, signer) the gateways trust; refuse before any connection."""
    from fleetops.firmware.verify import BundleRefused, verify_bundle

    verified = None
    for key in sorted({(str(ca or h.spec.ca_path), signer_name or h.spec.signer_name) for h in hosts}):
        try:
            verified = verify_bundle(bundle, Path(key[0]), key[1])
        except BundleRefused as refused:
            click.echo(f"fleetops: refused: {bundle.name}: {refused}; no gateway was touched", err=True)
            sys.exit(EXIT_FAILED)
    return verified


@firmware.command()
@click.argument("bundle", type=click.Path(path_type=Path))
@inventory_options
@click.option("--ca", type=click.Path(path_type=Path), help="CA to verify against (default: each gateway's ca_file).")
@click.option("--signer-name", help="Signer to require (default: each gateway's signer_name).")
@click.option("--force", is_flag=True, help="Allow the same version again or a downgrade.")
@click.option("--health-suite", default="firmware", show_default=True, help="The check suite that gates the commit.")
@click.option("--canary", type=click.IntRange(0, 1000), default=0, help="Gateways in a first batch of their own.")
@click.option("--batch", metavar="N|P%", help="Gateways per batch after the canary (default: all the rest).")
@click.option("--max-fail", metavar="N|P%", help="Gateways not committed that the update tolerates (default 0).")
@output_options
def update(
    bundle, inventory, limit, exclude, parallel, ca, signer_name, force, health_suite, canary, batch, max_fail, **output
) -> None:
    """Install BUNDLE on gateways: inactive slot, reboot, health gate, commit or roll back.

    \b
    fleetops firmware update fw-2.0.0.swu --limit gw1
    fleetops firmware update fw-2.0.0.swu --canary 1 --batch 25% --max-fail 1
    fleetops firmware update fw-1.9.0.swu --force --health-suite my-gate

    Exit 0 every gateway committed, 1 some gateway rolled back, refused, failed or timed out (or
    the bundle was refused: nothing touched), 7 stopped with gateways unattempted, 2 bad input.
    """
    from fleetops.checks.suite import load_suite
    from fleetops.cli.render import print_json, print_table
    from fleetops.firmware.hosts import firmware_hosts
    from fleetops.firmware.run import Strategy, run_update
    from fleetops.firmware.update import Policy
    from fleetops.inventory import resolve_inventory
    from fleetops.runner.rollout import budget_of, plan_batches

    inventory_path = resolve_inventory(inventory)
    hosts = firmware_hosts(inventory_path, limit, exclude)
    names = [h.target.name for h in hosts]
    plan_batches(names, canary, batch)  # bad --batch / --max-fail fail here, before anything
    budget_of(max_fail, len(names))
    suite = load_suite(health_suite)
    verified = _verified_for(bundle, hosts, ca, signer_name)

    def gate(host: str) -> str | None:
        from fleetops.checking.engine import sweep
        from fleetops.checking.plan import plan

        run = sweep(plan(inventory_path, suite, (host,)), suite=suite.name, inventory=str(inventory_path))
        bad = [r for r in run.results if int(r.status) >= 1]
        return "; ".join(f"{r.check}: {r.message}" for r in bad) if bad else None

    def say(message: str) -> None:
        if not output["quiet"]:
            click.echo(message, err=True)

    policy = Policy(
        gate=gate,
        force=force,
        health_timeout={h.target.name: h.spec.health_timeout + h.spec.soak_seconds for h in hosts},
    )
    strategy = Strategy(canary=canary, batch=batch, max_fail=max_fail, parallel=parallel)
    data, path = run_update(verified, [h.target for h in hosts], policy, strategy, str(inventory_path), say)
    section = data["firmware"]
    if output["as_json"]:
        print_json(data)
    else:
        rows = [
            (
                name,
                g["outcome"],
                f"{g['from_version'] or '?'} → {g['to_version']}",
                f"{g['from_slot'] or '?'} → {g['to_slot'] or '-'}",
                str(g["boots"]),
                f"{g['duration_s']:.1f}s",
                ": ".join(part for part in (g["by"], g["reason"]) if part),
            )
            for name, g in section["gateways"].items()
        ]
        print_table(
            f"firmware {verified.version}", ["gateway", "outcome", "version", "slot", "boots", "time", "why"], rows
        )
        click.echo(f"run record: {path}", err=True)
    if section["unattempted"]:
        click.echo(f"stopped: {section['stopped']}; not attempted: {', '.join(section['unattempted'])}", err=True)
        sys.exit(EXIT_STOPPED)
    if any(g["outcome"] != "committed" for g in section["gateways"].values()):
        sys.exit(EXIT_FAILED)


def _status_rows(answers):
    rows = []
    for name, answer in answers:
        if answer is None or not answer.ok:
            rows.append((name, "-", "-", "-", "-", "unreachable" if answer is None else answer.error))
            continue
        s = answer.data
        last = s.get("last_event") or {}
        trial = f"{s['trial_version']} on {s['boot_slot']}" if s.get("trial_pending") else "no"
        note = s.get("rollback_reason") or ""
        if s.get("recovery_status"):
            note = f"interrupted install (recovery_status={s['recovery_status']}) " + note
        event = f"{last.get('event', '')} {last.get('version', '')} {('by ' + last['by']) if last.get('by') else ''}"
        rows.append((name, s.get("version") or "?", s.get("booted_slot") or "?", trial, event.strip(), note))
    return rows


def _ask(hosts, *args: str):
    from fleetops.fanout import per_host
    from fleetops.firmware.remote import Unreachable, run_tool

    def one(host):
        try:
            return host.target.name, run_tool(host.target, *args, timeout=30)
        except Unreachable:
            return host.target.name, None

    return per_host(hosts, one)


@firmware.command()
@inventory_options
@click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON on stdout.")
def status(inventory, limit, exclude, parallel, as_json) -> None:
    """Version, booted slot, pending trial and the last event per gateway."""
    from fleetops.cli.render import print_json, print_table
    from fleetops.firmware.hosts import firmware_hosts
    from fleetops.inventory import resolve_inventory

    answers = _ask(firmware_hosts(resolve_inventory(inventory), limit, exclude), "status")
    if as_json:
        print_json({name: (a.data if a else {"ok": False, "error": "unreachable"}) for name, a in answers})
    else:
        print_table("firmware", ["gateway", "version", "slot", "trial", "last event", "note"], _status_rows(answers))
    if any(a is None or not a.ok for _name, a in answers):
        sys.exit(EXIT_FAILED)


@firmware.command()
@inventory_options
@click.option("--last", type=click.IntRange(1, 10000), default=20, show_default=True, help="Events per gateway.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON on stdout.")
def history(inventory, limit, exclude, parallel, last, as_json) -> None:
    """Installs, trial boots, commits and rollbacks (who and why), as each gateway recorded them."""
    from fleetops.cli.render import print_json, print_table
    from fleetops.firmware.hosts import firmware_hosts
    from fleetops.inventory import resolve_inventory

    answers = _ask(firmware_hosts(resolve_inventory(inventory), limit, exclude), "history", "--last", str(last))
    if as_json:
        print_json({name: (a.data.get("events", []) if a and a.ok else None) for name, a in answers})
    else:
        rows = []
        for name, answer in answers:
            if answer is None or not answer.ok:
                rows.append((name, "", "unreachable" if answer is None else "failed", "", "", "", ""))
                continue
            for e in answer.data.get("events", []):
                slot = e.get("slot") or (f"{e.get('from_slot')} → {e.get('to_slot')}" if e.get("to_slot") else "")
                rows.append(
                    (name, e.get("time", ""), e.get("event", ""), e.get("version", ""), slot, e.get("by") or "",
                     str(e.get("reason") or "")[:120])
                )  # fmt: skip
        print_table("firmware history", ["gateway", "time", "event", "version", "slot", "by", "reason"], rows)
    if any(a is None or not a.ok for _name, a in answers):
        sys.exit(EXIT_FAILED)


@firmware.command()
@inventory_options
@click.option("--reason", default="rollback requested by the operator", show_default=True, help="Recorded reason.")
@click.option("--yes", is_flag=True, help="Required: the gateways reboot into their other slot.")
def rollback(inventory, limit, exclude, parallel, reason, yes) -> None:
    """Boot the other slot (the previous firmware) now: end a pending trial, or go back a version."""
    from fleetops.cli.render import print_table
    from fleetops.errors import InputError
    from fleetops.fanout import per_host
    from fleetops.firmware.hosts import firmware_hosts
    from fleetops.firmware.remote import Unreachable, run_tool
    from fleetops.firmware.update import Stop, wait_settled
    from fleetops.inventory import resolve_inventory

    if not yes:
        raise InputError("rollback reboots gateways: add --yes")
    hosts = firmware_hosts(resolve_inventory(inventory), limit, exclude)

    def one(host):
        name = host.target.name
        try:
            before = run_tool(host.target, "status")
            answer = run_tool(host.target, "rollback", "--by", "operator", "--reboot", stdin=reason)
            if not answer.ok:
                return name, "failed", answer.error
            after = wait_settled(host.target, before.data.get("boot_id", ""), 180)
            return name, "rolled back", f"now {after.get('version')} on slot {after.get('booted_slot')}"
        except Unreachable as error:
            return name, "unreachable", str(error)
        except Stop as stop:
            return name, stop.outcome, stop.reason

    rows = per_host(hosts, one, parallel)
    print_table("firmware rollback", ["gateway", "result", "detail"], rows)
    if any(row[1] != "rolled back" for row in rows):
        sys.exit(EXIT_FAILED)
