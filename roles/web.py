"""The web role: nginx sites (static or reverse proxy), optional TLS, per-user pages (skill A-J2.x)."""

from __future__ import annotations

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.facts.files import FindFiles
from pyinfra.operations import files, systemd

from fleetops.operations.conditions import any_changed
from fleetops.operations.files import managed_file
from fleetops.operations.tls import self_signed_certificate
from fleetops.render import render
from fleetops.roles.data import role_data
from fleetops.roles.packages import install
from fleetops.roles.web_spec import Site, WebData

# conf.d/*.conf is what Debian's nginx.conf includes: the backup (.conf.fleetops-bak) and the
# temporary file (.name.conf.fleetops-tmp) that managed_file leaves next to it are not loaded.
CONF_DIR = "/etc/nginx/conf.d"
PREFIX = "fleetops-"
TLS_DIR = "/etc/nginx/tls"


def site_path(site: Site) -> str:
    return f"{CONF_DIR}/{PREFIX}{site.name}.conf"


# The group-data models this role reads: validated before a deploy that uses it connects.
SPECS = (WebData,)


@deploy("Web server")
def web_server() -> None:
    """Install nginx, converge the declared sites, reload only if a site or certificate changed.

    Each site file is rendered from ``templates/nginx/site.conf.j2`` and checked with ``nginx -t``
    right after it is put in place; if nginx rejects it the previous file is restored, so the
    running server keeps serving the old configuration.
    """
    spec = role_data(WebData).web
    needs_tls = any(site.tls for site in spec.sites)
    install(["nginx", "openssl"] if needs_tls else ["nginx"], name="Install nginx")
    changes = []
    if not spec.keep_default_site:
        # Debian ships it as a symlink to sites-available/default; remove whatever it is.
        changes.append(
            files.file(
                name="Remove the default site",
                path="/etc/nginx/sites-enabled/default",
                present=False,
                force=True,
                force_backup=False,
            )
        )
    for site in spec.sites:
        _content(site)
        cert_file, key_file = f"{TLS_DIR}/{site.name}.crt", f"{TLS_DIR}/{site.name}.key"
        if site.tls:
            changes.extend(_certificate(site, cert_file, key_file))
        changes.append(
            managed_file(
                name=f"nginx site {site.name}",
                path=site_path(site),
                content=render("nginx/site.conf.j2", site=site, cert_file=cert_file, key_file=key_file),
                validate_installed="nginx -t -q",
            )
        )
    wanted = {site_path(site) for site in spec.sites}
    existing = host.get_fact(FindFiles, path=CONF_DIR, fname=f"{PREFIX}*.conf", quote_path=True) or []
    for stale in sorted(set(existing) - wanted):
        changes.append(files.file(name=f"Remove stale site {stale}", path=stale, present=False))
    systemd.service(name="nginx running and enabled", service="nginx", running=True, enabled=True)
    if changes:
        systemd.service(name="Reload nginx", service="nginx", reloaded=True, _if=any_changed(*changes))


def _content(site: Site) -> None:
    """The static root (and its index page when declared) and per-user public_html folders."""
    if site.root_dir:
        files.directory(name=f"Root of {site.name}", path=site.root_dir, user="root", group="root", mode="755")
        if site.index_html is not None:
            managed_file(
                name=f"Index page of {site.name}",
                path=f"{site.root_dir}/index.html",
                content=site.index_html,
                backup=False,
            )
    for user in site.userdir_users:
        files.directory(
            name=f"public_html of {user}", path=f"/home/{user}/public_html", user=user, group=user, mode="755"
        )


def _certificate(site: Site, cert_file: str, key_file: str) -> list:
    if site.tls.cert is None:
        return [
            self_signed_certificate(
                name=f"Self-signed certificate of {site.name}",
                cert=cert_file,
                key=key_file,
                common_name=site.names[0],
                names=site.names[1:],
            )
        ]
    return [
        managed_file(name=f"Certificate of {site.name}", path=cert_file, content=site.tls.cert.strip() + "\n"),
        managed_file(
            name=f"Private key of {site.name}",
            path=key_file,
            content=site.tls.key.reveal().strip() + "\n",
            mode="600",
            sensitive=True,
        ),
    ]
