"""The firmware role: SWUpdate A/B slots on a gateway, with a boot stand-in and a health gate.

What it installs (paths in ``fleetops.firmware.layout``): swupdate, libubootenv-tool and
u-boot-tools from the distribution, with the package's own daemon masked (fleetops runs one-shot
installs); ``/etc/fw_env.config`` naming a redundant U-Boot environment in two files; SWUpdate's
config (the CA, the pinned signer name, the ``uboot`` bootloader interface); ``/etc/hwrevision``;
the gateway tool ``fleetops-fw``; the factory firmware, seeded into slot a when the environment is
first created; and the units: ``fleetops-fw-boot`` (the simulated bootloader: the lab has no
U-Boot, so this one unit plays its part at every boot), ``fleetops-fw-agent`` (the firmware's own
service, run from the booted slot), ``fleetops-fw-health`` (the trial's on-gateway health gate)
and the trial deadline timer. Re-running the role during a trial changes nothing: the
environment is created only when absent and its bootlimit is only changed between trials.
"""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

from pyinfra.api import deploy
from pyinfra.operations import files, systemd

import fleetops.firmware
from fleetops.errors import InputError
from fleetops.firmware import layout
from fleetops.firmware.gateway_tool import __file__ as GATEWAY_TOOL
from fleetops.operations.conditions import any_changed
from fleetops.operations.files import managed_file
from fleetops.operations.firmware import boot_environment
from fleetops.render import render
from fleetops.roles.data import role_data
from fleetops.roles.firmware_spec import FirmwareData, FirmwareSpec
from fleetops.roles.packages import install

SPECS = (FirmwareData,)
FACTORY = Path(fleetops.firmware.__file__).parent / "factory"
PACKAGES = ["swupdate", "libubootenv-tool", "u-boot-tools"]


@deploy("Firmware A/B")
def firmware() -> None:
    """Converge the ``firmware`` group-data key on this gateway (nothing when it is absent)."""
    spec = role_data(FirmwareData).firmware
    if spec is None:
        return
    ca = read_ca(spec.ca_path)
    factory = Path(spec.factory_dir).expanduser().resolve() if spec.factory_dir else FACTORY
    if not (factory / "usr/bin/fw-agent").is_file():
        raise InputError(f"firmware.factory_dir {factory}: no usr/bin/fw-agent (the firmware's service)")
    install(PACKAGES, name="Install SWUpdate and the U-Boot environment tools")
    masked = [
        files.link(name=f"Mask {unit} (one-shot installs only)", path=f"/etc/systemd/system/{unit}", target="/dev/null")
        for unit in layout.MASKED_UNITS
    ]
    systemd.daemon_reload(name="Reload systemd after masking", _if=any_changed(*masked))
    for unit in ("swupdate.socket", "swupdate.service"):
        systemd.service(name=f"{unit} stopped", service=unit, running=False)
    for path, mode in (
        (layout.ETC, "755"),
        (layout.HEALTH_DIR, "755"),
        (layout.STATE, "700"),
        (layout.SLOTS, "755"),
        (layout.INCOMING, "700"),
        (layout.FACTORY, "755"),
    ):
        files.directory(name=f"Directory {path}", path=path, mode=mode)
    files.put(name="The gateway tool fleetops-fw", src=GATEWAY_TOOL, dest=layout.TOOL, mode="755")
    _factory(factory, spec.factory_version)
    managed_file(name="Firmware CA", path=layout.CA, content=ca)
    managed_file(name="Hardware revision", path=layout.HWREVISION, content=f"{spec.board} {spec.revision}\n")
    managed_file(
        name="U-Boot environment location",
        path=layout.FW_ENV_CONFIG,
        content=render("firmware/fw_env.config.j2", files=layout.ENV_FILES, size=layout.ENV_SIZE),
    )
    managed_file(
        name="SWUpdate configuration",
        path=layout.SWUPDATE_CONFIG,
        content=render("firmware/swupdate.cfg.j2", ca=layout.CA, signer_name=spec.signer_name),
    )
    managed_file(name="Gateway tool configuration", path=layout.CONFIG, content=tool_config(spec))
    boot_environment(
        name="Boot environment (created once, slot a seeded)",
        files=list(layout.ENV_FILES),
        tool=layout.TOOL,
        factory=layout.FACTORY,
        bootlimit=spec.bootlimit,
    )
    _units(spec)


def read_ca(path: Path) -> str:
    """The CA's PEM text, or InputError when the file is not a CA certificate."""
    from cryptography import x509

    try:
        text = path.read_text()
        cert = x509.load_pem_x509_certificate(text.encode())
        constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except (OSError, ValueError, x509.ExtensionNotFound) as error:
        raise InputError(f"firmware.ca_file {path}: not a PEM CA certificate ({error})") from None
    if not constraints.ca:
        raise InputError(f"firmware.ca_file {path}: the certificate is not a CA (basicConstraints CA:FALSE)")
    return text


def tool_config(spec: FirmwareSpec) -> str:
    """The gateway tool's JSON config: the layout and the trial policy."""
    return (
        json.dumps(
            {
                "state_dir": layout.STATE,
                "run_dir": layout.RUN,
                "health_dir": layout.HEALTH_DIR,
                "fw_env_config": layout.FW_ENV_CONFIG,
                "swupdate_config": layout.SWUPDATE_CONFIG,
                "hwrevision": layout.HWREVISION,
                "env_size": layout.ENV_SIZE,
                "bootlimit": spec.bootlimit,
                "health_timeout": spec.health_timeout,
                "soak_seconds": spec.soak_seconds,
                "trial_timeout": spec.trial_timeout,
            },
            indent=2,
            sort_keys=True,
        )
        + "\n"
    )


def _factory(factory: Path, version: str) -> None:
    """The factory firmware tree, kept on the gateway for seeding slot a."""
    for path in sorted(factory.rglob("*")):
        relative = path.relative_to(factory).as_posix()
        dest = f"{layout.FACTORY}/{relative}"
        if relative == layout.VERSION_FILE:
            continue
        if path.is_dir():
            files.directory(name=f"Factory {relative}/", path=dest, mode="755")
        else:
            files.put(name=f"Factory {relative}", src=str(path), dest=dest, mode=oct(path.stat().st_mode & 0o777)[2:])
    files.directory(name="Factory etc/", path=f"{layout.FACTORY}/etc", mode="755")
    files.put(
        name="Factory version", src=StringIO(version + "\n"), dest=f"{layout.FACTORY}/{layout.VERSION_FILE}", mode="644"
    )


def _units(spec: FirmwareSpec) -> None:
    names = {
        "tool": layout.TOOL,
        "boot_unit": layout.BOOT_UNIT,
        "agent_unit": layout.AGENT_UNIT,
        "run_dir": layout.RUN,
        "health_timeout": spec.health_timeout + spec.soak_seconds,
        "trial_timeout": spec.trial_timeout,
    }
    units = {
        layout.BOOT_UNIT: "firmware/boot.service.j2",
        layout.AGENT_UNIT: "firmware/agent.service.j2",
        layout.HEALTH_UNIT: "firmware/health.service.j2",
        f"{layout.DEADLINE_UNIT}.service": "firmware/deadline.service.j2",
        f"{layout.DEADLINE_UNIT}.timer": "firmware/deadline.timer.j2",
    }
    written = {
        unit: managed_file(
            name=f"Unit {unit}", path=f"/etc/systemd/system/{unit}", backup=False, content=render(template, **names)
        )
        for unit, template in units.items()
    }
    systemd.daemon_reload(name="Reload firmware units", _if=any_changed(*written.values()))
    systemd.service(name="Slot selection ran this boot", service=layout.BOOT_UNIT, running=True, enabled=True)
    systemd.service(
        name="Firmware agent running from the booted slot",
        service=layout.AGENT_UNIT,
        running=True,
        enabled=True,
    )
    systemd.service(
        name="Restart the firmware agent (its unit changed)",
        service=layout.AGENT_UNIT,
        restarted=True,
        _if=any_changed(written[layout.AGENT_UNIT]),
    )
    # Enabled, not started, as the links `systemctl enable` makes: the health gate runs at boot
    # and the deadline's OnStartupSec counts from a boot (trials begin with one). pyinfra's
    # enabled fact only sees units systemd has loaded, and a unit that never ran gets unloaded,
    # so `enabled=True` would enable them again on every converge.
    for unit, wanted_by in (
        (layout.HEALTH_UNIT, "multi-user.target"),
        (f"{layout.DEADLINE_UNIT}.timer", "timers.target"),
    ):
        files.link(
            name=f"Enable {unit} (at every boot)",
            path=f"/etc/systemd/system/{wanted_by}.wants/{unit}",
            target=f"/etc/systemd/system/{unit}",
        )
