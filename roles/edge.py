"""The edge app role: the inference app from an offline bundle, its model and config, its startup policy.

Layout on a gateway (``/opt/fleetops-edge``): ``bundles/`` (uploaded tarballs), ``releases/<key>/``
(app + venv, side by side), ``current`` (a symlink switched atomically), ``models/<name>-<sha>/``
and ``models/current`` (the model the app loads, also switched atomically).
The config (``/etc/fleetops-edge/config.json``) is rendered from a template and validated by the
app itself before it is installed. After any change the service restarts and the deploy waits
for ``/ready`` (model loaded and a warm-up inference on a golden input succeeded); a gateway that
does not become ready fails the deploy. Only then are releases and model versions beyond the
``keep_releases`` newest removed. Heartbeats go to ``server_api``, or to the receiver on the
inventory host named by ``platform_host``.
"""

from __future__ import annotations

from pyinfra import host, inventory
from pyinfra.api import deploy
from pyinfra.operations import files, systemd

from fleetops.edge.bundle import EDGE
from fleetops.errors import InputError
from fleetops.groupdata import host_data
from fleetops.models import manifest as manifests
from fleetops.operations.conditions import any_changed
from fleetops.operations.edge import atomic_link, prune
from fleetops.operations.files import managed_file
from fleetops.render import render
from fleetops.roles.data import role_data
from fleetops.roles.edge_spec import EdgeData, EdgeSpec
from fleetops.roles.bundled_service import install_release, prune_history, restart_when_changed, switch_to
from fleetops.roles.packages import install
from fleetops.roles.platform_spec import PlatformData

ROOT = "/opt/fleetops-edge"
CONFIG = "/etc/fleetops-edge/config.json"
UNIT = "fleetops-edge"
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
    install(["python3-venv"], name="Install python3-venv")
    for path in (ROOT, f"{ROOT}/bundles", f"{ROOT}/releases", f"{ROOT}/models", "/etc/fleetops-edge",
                 "/var/log/fleetops-edge"):
        files.directory(name=f"Directory {path}", path=path, mode="755")
    release = install_release(ROOT, EDGE)
    model_dir = f"{ROOT}/models/{manifest.name}-{manifest.sha256[:12]}"
    files.directory(name="Model directory", path=model_dir, mode="755")
    model_files = [files.put(name=f"Upload {name}", src=str(spec.model_path / name),
                             dest=f"{model_dir}/{name}", mode="644")
                   for name in (manifests.MODEL_FILE, manifests.MANIFEST_FILE)]
    # The app loads models/current; `fleetops model deploy` switches it (and rolls it back),
    # a converge sets it to the model declared in group data.
    model_link = atomic_link(name="Switch models/current to the declared model",
                             path=f"{ROOT}/models/current", target=model_dir)
    config = managed_file(
        name="App configuration", path=CONFIG,
        content=render("edge/config.json.j2", edge=spec, gateway_name=host.name, server_api=server_api(spec),
                       model_path=f"{ROOT}/models/current"),
        validate=release.check_config())
    switched = switch_to(ROOT, release)
    unit = managed_file(name="Service unit", path=f"/etc/systemd/system/{UNIT}.service", backup=False,
                        content=render("edge/fleetops-edge.service.j2", edge=spec, root=ROOT, config=CONFIG))
    systemd.daemon_reload(name="Reload systemd units", _if=unit.did_change)
    systemd.service(name="Edge app enabled and running", service=UNIT, running=True, enabled=True)
    changed = any_changed(release.installed, *model_files, model_link, config, switched, unit)
    restart_when_changed(UNIT, "edge app", spec.port, changed, wait_seconds=60)
    # old releases and model versions go only after the new ones are serving (rollback keeps N)
    prune_history(ROOT, release, keep=spec.keep_releases)
    prune(name="Prune old model versions", path=f"{ROOT}/models", keep=spec.keep_releases,
          protect=[model_dir.rsplit("/", 1)[-1]])


def server_api(spec: EdgeSpec) -> str | None:
    """The receiver's URL: ``server_api`` as declared, or built from ``platform_host``'s inventory
    address and its platform role's port."""
    if spec.server_api or not spec.platform_host:
        return spec.server_api
    target = inventory.get_host(spec.platform_host, None)
    if target is None:
        raise InputError(f"host {host.name}: edge.platform_host: no host {spec.platform_host!r} in the inventory")
    receiver = PlatformData.model_validate(host_data(target)).platform
    if receiver is None or not receiver.present:
        raise InputError(f"host {host.name}: edge.platform_host: {spec.platform_host} runs no platform "
                         "receiver (group data key platform)")
    address = target.data.get("ssh_hostname") or target.name
    return f"http://{address}:{receiver.port}"


def _uninstall() -> None:
    systemd.service(name="Stop the edge app", service=UNIT, running=False, enabled=False,
                    _ignore_errors=True)
    files.file(name="Remove the service unit", path=f"/etc/systemd/system/{UNIT}.service", present=False)
    files.directory(name="Remove the app", path=ROOT, present=False)
    files.directory(name="Remove the configuration", path="/etc/fleetops-edge", present=False)
