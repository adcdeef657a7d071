"""Steps shared by roles that run a fleetops app from an offline bundle under systemd.

The edge app and the platform receiver install the same way: upload the bundle, install it as a
release side by side with the others (``releases/<key>``), and once the role has placed its
config and unit, switch ``current``; restart only when something changed (clearing the crash-loop
limit first, since a deliberate restart must not be refused), wait for the app's ``/ready``, and
only then remove old releases and bundles.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyinfra.operations import files, server, systemd

from fleetops.edge.bundle import Bundle, build_bundle
from fleetops.operations.releases import atomic_link, bundle_release, prune

# The receiver's certificate names the host's address, not 127.0.0.1; this only asks a local
# process whether it is ready, so that one poll does not verify it.
READY_WAIT = (
    "python3 - <<'EOF'\n"
    "import ssl, sys, time, urllib.request\n"
    "context = ssl._create_unverified_context()\n"
    "for _ in range({tries}):\n"
    "    try:\n"
    "        urllib.request.urlopen('{scheme}://{address}:{port}{path}', timeout=2, context=context)\n"
    "        sys.exit(0)\n"
    "    except Exception as error:\n"
    "        last = error\n"
    "        time.sleep(0.5)\n"
    "print(f'{title} not ready after {seconds} s: {{last}}', file=sys.stderr)\n"
    "sys.exit(1)\n"
    "EOF"
)


@dataclass(frozen=True)
class Release:
    path: str  # releases/<key> on the host
    key: str
    tarball: str  # the bundle's file name under bundles/
    installed: object  # the install operation (changed when a new release was built)

    def check_config(self) -> str:
        """A ``managed_file`` validate command: the release's own app checks the config (``{}``)."""
        return f"{self.path}/venv/bin/python {self.path}/app.py --check-config --config {{}}"


def service_layout(user: str, root: str, etc: str, extra_dirs: tuple[str, ...] = ()) -> None:
    """The app's system account (no shell, no home), ``root`` with ``bundles/`` and ``releases/``
    (plus ``extra_dirs`` under it), and ``etc`` readable by the account's group only."""
    server.user(
        name="Service account",
        user=user,
        system=True,
        shell="/usr/sbin/nologin",
        create_home=False,
        home="/nonexistent",
    )
    for path in (root, f"{root}/bundles", f"{root}/releases", *(f"{root}/{d}" for d in extra_dirs)):
        files.directory(name=f"Directory {path}", path=path, mode="755")
    files.directory(name=f"Directory {etc}", path=etc, mode="750", user="root", group=user)


def uninstall(unit: str, title: str, root: str, etc: str) -> None:
    """Stop and disable the unit, then remove it, the app and its configuration."""
    systemd.service(name=f"Stop the {title}", service=unit, running=False, enabled=False, _ignore_errors=True)
    files.file(name="Remove the service unit", path=f"/etc/systemd/system/{unit}.service", present=False)
    files.directory(name="Remove the app", path=root, present=False)
    files.directory(name="Remove the configuration", path=etc, present=False)


def install_release(root: str, bundle: Bundle) -> Release:
    """Upload the bundle and install it as ``root/releases/<key>`` (once; nothing when it exists)."""
    tarball = build_bundle(bundle)
    remote = f"{root}/bundles/{tarball.name}"
    files.put(name="Upload the offline bundle", src=str(tarball), dest=remote, mode="644")
    path = f"{root}/releases/{bundle.key()}"
    installed = bundle_release(name="Install the release", bundle=remote, release=path)
    return Release(path=path, key=bundle.key(), tarball=tarball.name, installed=installed)


def switch_to(root: str, release: Release):
    """Point ``root/current`` at the release (an atomic rename); returns the operation."""
    return atomic_link(name="Switch current to the release", path=f"{root}/current", target=release.path)


def restart_when_changed(
    unit: str,
    title: str,
    port: int,
    changed,
    wait_seconds: int,
    scheme: str = "http",
    address: str = "127.0.0.1",
    path: str = "/ready",
) -> None:
    """Restart ``unit`` when ``changed`` and wait until ``path`` at ``address:port`` answers
    (``address``: where the app listens; 0.0.0.0 means it answers on loopback too). ``/ready``
    by default; ``/health`` (the app listens, whatever its model) when a gate judges readiness."""
    address = "127.0.0.1" if address in ("0.0.0.0", "::") else address
    server.shell(name="Clear the restart limit", commands=[f"systemctl reset-failed {unit} || true"], _if=changed)
    systemd.service(name=f"Restart the {title}", service=unit, restarted=True, _if=changed)
    server.shell(
        name=f"Wait until the {title} is ready" if path == "/ready" else f"Wait until the {title} answers {path}",
        _if=changed,
        commands=[
            READY_WAIT.format(
                port=port,
                tries=wait_seconds * 2,
                seconds=wait_seconds,
                title=title,
                scheme=scheme,
                address=address,
                path=path,
            )
        ],
    )


def prune_history(root: str, release: Release, keep: int) -> None:
    """Keep the ``keep`` newest releases (and always the serving one) and only the current bundle."""
    prune(name="Prune old releases", path=f"{root}/releases", keep=keep, protect=[release.key])
    prune(name="Prune old bundles", path=f"{root}/bundles", keep=1, protect=[release.tarball], files=True)
