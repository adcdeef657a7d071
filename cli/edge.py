"""``fleetops edge``: operate the edge app on gateways (release rollback, release listing)."""

from __future__ import annotations

import sys

import click

from fleetops.cli.options import inventory_options

ROLLBACK = r"""set -eu
root=/opt/fleetops-edge
current=$(readlink -f "$root/current")
previous=$(ls -1dt "$root"/releases/*/ 2>/dev/null | sed 's:/$::' | grep -vxF "$current" | grep -v '\.partial$' | head -n 1 || true)
if [ -z "$previous" ]; then echo '{"error": "no previous release to roll back to"}'; exit 1; fi
ln -sfn "$previous" "$root/.current.tmp" && mv -T "$root/.current.tmp" "$root/current"
touch "$current"  # the release rolled back from becomes the newest "other" one (roll forward again)
systemctl reset-failed fleetops-edge 2>/dev/null || true  # a deliberate restart, not a crash loop
systemctl restart fleetops-edge
url=$(python3 -c 'import json; c = json.load(open("/etc/fleetops-edge/config.json")); h = c.get("listen_host", "127.0.0.1"); print("http://%s:%s/ready" % ("127.0.0.1" if h in ("0.0.0.0", "::") else h, c["listen_port"]))')
for i in $(seq 120); do
  if python3 -c "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)" "$url" 2>/dev/null; then
    printf '{"from": "%s", "to": "%s", "ready": true}\n' "$(basename "$current")" "$(basename "$previous")"; exit 0
  fi
  sleep 0.5
done
printf '{"from": "%s", "to": "%s", "ready": false}\n' "$(basename "$current")" "$(basename "$previous")"; exit 1
"""

RELEASES = r"""root=/opt/fleetops-edge; current=$(readlink -f "$root/current" || true)
for release in $(ls -1dt "$root"/releases/*/ 2>/dev/null | sed 's:/$::'); do
  printf '{"release": "%s", "current": %s, "time": %s}\n' "$(basename "$release")" \
    "$([ "$release" = "$current" ] && echo true || echo false)" "$(stat -c %Y "$release")"
done"""


@click.group()
def edge() -> None:
    """Edge app releases on the gateways (group `gateway` unless --limit says otherwise).

    \b
    fleetops edge releases
    fleetops edge rollback --limit gw1
    """


def _targets(inventory, limit, exclude):
    from fleetops.checking.target import SshTarget
    from fleetops.inventory import load_inventory, resolve_inventory, select_hosts

    hosts = select_hosts(load_inventory(resolve_inventory(inventory)), limit or ("gateway",), exclude)
    return [SshTarget.from_host(host) for host in hosts]


@edge.command()
@inventory_options
@click.option("--json", "as_json", is_flag=True)
def releases(inventory, limit, exclude, parallel, as_json) -> None:
    """Releases side by side on each gateway, newest first, and which one is current."""
    from fleetops.cli.render import print_json, print_table
    from fleetops.remote_exec import on_hosts

    answers = on_hosts(_targets(inventory, limit, exclude), RELEASES, timeout=60)
    if as_json:
        print_json([{"host": a.host, "ok": a.ok, "error": a.error, "releases": a.lines} for a in answers])
    else:
        print_table("edge releases", ["host", "release", "current", "error"],
                    [(a.host, line["release"], "yes" if line["current"] else "", a.error)
                     for a in answers for line in (a.lines or [{"release": "", "current": False}])])
    if not all(a.ok for a in answers):
        sys.exit(1)


@edge.command()
@inventory_options
@click.option("--json", "as_json", is_flag=True)
def rollback(inventory, limit, exclude, parallel, as_json) -> None:
    """Switch each gateway back to its previous release, restart, and wait until it is ready.

    The next `fleetops deploy deploys/edge.py` installs the declared release again.
    """
    from fleetops.cli.render import print_json, print_table
    from fleetops.remote_exec import on_hosts

    answers = on_hosts(_targets(inventory, limit, exclude), ROLLBACK, timeout=120)
    if as_json:
        print_json([{"host": a.host, "ok": a.ok, "error": a.error, "results": a.lines} for a in answers])
    else:
        print_table("edge rollback", ["host", "status", "from", "to", "detail"],
                    [(a.host, "ok" if a.ok else "failed", (a.lines or [{}])[-1].get("from", ""),
                      (a.lines or [{}])[-1].get("to", ""), (a.lines or [{}])[-1].get("error", a.error))
                     for a in answers])
    if not all(a.ok for a in answers):
        sys.exit(1)
