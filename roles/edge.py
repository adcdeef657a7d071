"""The edge app role: the inference app from an offline bundle, its model and config, its startup policy.

Layout on a gateway (``/opt/fleetops-edge``): ``bundles/`` (uploaded tarballs), ``releases/<key>/``
(app + venv, side by side), ``current`` (a symlink switched atomically), ``models/<name>-<sha>/``
and ``models/current`` (the model the app loads, also switched atomically).
The config (``/etc/fleetops-edge/config.json``) is rendered from a template and validated by the
app itself before it is installed. The app runs as the system user ``fleetops-edge`` in a
sandboxed unit, listens on the gateway's own address, and reports with its own token (0640,
readable by that user only) over HTTPS, checking the receiver against the CA the role installs.
Models are uploaded beside the live one and checked by sha256 on the gateway before they count. After any change the service restarts and the deploy waits
for ``/ready`` (model loaded and a warm-up inference on a golden input succeeded); a gateway that
does not become ready fails the deploy. Only then are releases and model versions beyond the
``keep_releases`` newest removed. Heartbeats go to ``server_api``, or to the receiver on the
inventory host named by ``platform_host``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pyinfra import host, inventory
from pyinfra.api import deploy
from pyinfra.operations import files, systemd

from fleetops.credentials import gateway_token

from fleetops.edge.bundle import EDGE
from fleetops.edge.layout import (
    CONFIG,
    CURRENT_MODEL,
    ETC,
    INFER_TOKEN,
    LOG_DIR,
    MODEL_DIR_KEY,
    PREVIOUS_KEY,
    ROOT,
    SERVER_CA,
    SERVER_TOKEN,
    SWITCH_STEP,
    UNIT,
    USER,
    model_destination,
)
from fleetops.errors import InputError
from fleetops.groupdata import host_data
from fleetops.models import manifest as manifests
from fleetops.operations.conditions import any_changed
from fleetops.operations.releases import atomic_link, prune, switch_to_previous, verified_directory
from fleetops.operations.files import managed_file
from fleetops.render import render
from fleetops.roles.data import role_data
from fleetops.roles.edge_spec import EdgeData, EdgeSpec
from fleetops.roles.bundled_service import (
    install_release,
    prune_history,
    restart_when_changed,
    service_layout,
    switch_to,
    uninstall,
)
from fleetops.roles.packages import install
from fleetops.roles.platform_spec import PlatformData
from fleetops.secrets import Secret


# The group-data models this role reads: validated before a deploy that uses it connects.
SPECS = (EdgeData,)


@deploy("Edge app")
def edge_app() -> None:
    """Install (or with ``present: false`` uninstall) the edge app from the ``edge`` group-data key."""
    spec = role_data(EdgeData).edge
    if spec is None:
        return
    if not spec.present:
        _uninstall()
        return
    manifest = manifests.load(spec.model_path)  # refuses a model that does not match its sha256
    receiver = server_link(spec)
    install(["python3-venv"], name="Install python3-venv")
    service_layout(USER, ROOT, ETC, extra_dirs=("models",))
    files.directory(name=f"Directory {LOG_DIR}", path=LOG_DIR, mode="750", user=USER, group=USER)
    release = install_release(ROOT, EDGE)
    model_dir = f"{ROOT}/models/{manifest.name}-{manifest.sha256[:12]}"
    # uploaded next to the live model, checked by sha256 on the gateway, then renamed into place
    model = verified_directory(
        name="Model files (sha256 verified on the gateway)",
        path=model_dir,
        sources=[str(spec.model_path / name) for name in (manifests.MODEL_FILE, manifests.MANIFEST_FILE)],
    )
    # The app loads models/current; `fleetops model deploy` switches it (and rolls it back),
    # a converge sets it to the model declared in group data.
    model_link = atomic_link(
        name="Switch models/current to the declared model", path=f"{ROOT}/models/current", target=model_dir
    )
    secrets_changed = _secret_files(spec, receiver)
    config = managed_file(
        name="App configuration",
        path=CONFIG,
        mode="640",
        group=USER,
        content=render(
            "edge/config.json.j2",
            edge=spec,
            gateway_name=host.name,
            server_api=receiver.url,
            listen_host=listen_address(spec),
            model_path=f"{ROOT}/models/current",
            server_token_file=SERVER_TOKEN if receiver.url else None,
            server_ca_file=SERVER_CA if receiver.ca else None,
            infer_token_file=INFER_TOKEN if spec.infer_token else None,
        ),
        validate=release.check_config(),
    )
    switched = switch_to(ROOT, release)
    unit = managed_file(
        name="Service unit",
        path=f"/etc/systemd/system/{UNIT}.service",
        backup=False,
        content=render("edge/fleetops-edge.service.j2", edge=spec, root=ROOT, config=CONFIG, user=USER),
    )
    systemd.daemon_reload(name="Reload systemd units", _if=unit.did_change)
    systemd.service(name="Edge app enabled and running", service=UNIT, running=True, enabled=True)
    changed = any_changed(release.installed, model, model_link, *secrets_changed, config, switched, unit)
    restart_when_changed(UNIT, "edge app", spec.port, changed, wait_seconds=60, address=listen_address(spec))
    # old releases and model versions go only after the new ones are serving (rollback keeps N)
    prune_history(ROOT, release, keep=spec.keep_releases)
    prune(
        name="Prune old model versions",
        path=f"{ROOT}/models",
        keep=spec.keep_releases,
        protect=[model_dir.rsplit("/", 1)[-1]],
    )


@deploy("Edge rollback")
def edge_rollback() -> None:
    """Switch ``current`` back to the previous release, restart, wait for ``/ready`` (the steps
    and paths of the converge itself; the next converge installs the declared release again)."""
    spec = _declared_edge()
    switched = switch_to_previous(
        name="Switch current to the previous release", path=f"{ROOT}/current", parent=f"{ROOT}/releases"
    )
    restart_when_changed(
        UNIT, "edge app", spec.port, any_changed(switched), wait_seconds=60, address=listen_address(spec)
    )


def _declared_edge() -> EdgeSpec:
    spec = role_data(EdgeData).edge
    if spec is None or not spec.present:
        raise InputError(f"host {host.name}: no edge app declared (group data key edge)")
    return spec


@deploy("Model deploy")
def model_release() -> None:
    """``fleetops model deploy``'s change on one gateway: the model directory named by the host
    data key ``fleetops_model_dir`` uploaded beside the live one, checked by sha256 on the
    gateway, switched in, the app restarted until it listens (the gate is the controller's)."""
    spec = _declared_edge()
    model_dir = Path(str(host.data.get(MODEL_DIR_KEY)))
    manifest = manifests.load(model_dir)
    dest = model_destination(model_dir, manifest)
    verified_directory(
        name="Upload the model and verify its sha256 on the gateway",
        path=dest,
        sources=[str(model_dir / name) for name in (manifests.MODEL_FILE, manifests.MANIFEST_FILE)],
    )
    link = atomic_link(name=SWITCH_STEP, path=CURRENT_MODEL, target=dest)
    restart_when_changed(
        UNIT, "edge app", spec.port, any_changed(link), wait_seconds=60, address=listen_address(spec), path="/health"
    )


@deploy("Model rollback")
def model_rollback() -> None:
    """Back to the model the gateway served before (host data ``fleetops_model_previous``), restart,
    wait until ready."""
    spec = _declared_edge()
    previous = (host.data.get(PREVIOUS_KEY) or {}).get(host.name)
    if not previous:
        raise InputError(f"host {host.name}: no previous model to roll back to")
    link = atomic_link(name=f"Roll back to {previous.rsplit('/', 1)[-1]}", path=CURRENT_MODEL, target=previous)
    restart_when_changed(UNIT, "edge app", spec.port, any_changed(link), wait_seconds=60, address=listen_address(spec))


def _secret_files(spec: EdgeSpec, receiver: "ServerLink") -> list:
    """The receiver token, the receiver's CA and the /infer token; returns the operations whose
    change needs a restart. The receiver token is read by the app on every report, so a rotated
    token takes effect without a restart and the queued events survive."""
    restart_on = []
    if receiver.url:
        managed_file(
            name="Receiver token (this gateway's own)",
            path=SERVER_TOKEN,
            mode="640",
            group=USER,
            content=(receiver.token.reveal() if receiver.token else "") + "\n",
            sensitive=True,
            backup=False,
        )
    if receiver.ca:
        restart_on.append(
            managed_file(name="Receiver CA certificate", path=SERVER_CA, mode="644", content=receiver.ca, backup=False)
        )
    if spec.infer_token:
        restart_on.append(
            managed_file(
                name="Inference token",
                path=INFER_TOKEN,
                mode="640",
                group=USER,
                content=spec.infer_token.reveal() + "\n",
                sensitive=True,
                backup=False,
            )
        )
    else:
        files.file(name="No inference token", path=INFER_TOKEN, present=False)
    return restart_on


def listen_address(spec: EdgeSpec) -> str:
    """Where the app listens: ``listen_host``, else the gateway's inventory address when it is an
    IP address (the lab's), else all addresses."""
    import ipaddress

    if spec.listen_host:
        return spec.listen_host
    address = str(host.data.get("ssh_hostname") or host.name)
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return "0.0.0.0"
    return address


@dataclass(frozen=True)
class ServerLink:
    """How this gateway reaches the platform receiver: URL, its token, the CA to verify it."""

    url: str | None = None
    token: Secret | None = None
    ca: str | None = None


def server_link(spec: EdgeSpec) -> ServerLink:
    """The receiver's URL, this gateway's token and the CA: ``server_api`` (+ ``server_ca``) as
    declared, or built from ``platform_host``'s inventory address, port and certificate."""
    from fleetops.roles.platform import gateway_ca

    if not (spec.server_api or spec.platform_host):
        return ServerLink()
    token = gateway_token(host.name, rotate=spec.rotate_token)
    if spec.server_api:
        return ServerLink(spec.server_api, token, spec.server_ca)
    target = inventory.get_host(spec.platform_host, None)
    if target is None:
        raise InputError(f"host {host.name}: edge.platform_host: no host {spec.platform_host!r} in the inventory")
    receiver = PlatformData.model_validate(host_data(target)).platform
    if receiver is None or not receiver.present:
        raise InputError(
            f"host {host.name}: edge.platform_host: {spec.platform_host} runs no platform "
            "receiver (group data key platform)"
        )
    address = target.data.get("ssh_hostname") or target.name
    if not receiver.tls.enabled:
        return ServerLink(f"http://{address}:{receiver.port}", token)
    return ServerLink(f"https://{address}:{receiver.port}", token, gateway_ca(receiver, target))


def _uninstall() -> None:
    uninstall(UNIT, "edge app", ROOT, ETC)
