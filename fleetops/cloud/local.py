"""The ``local`` provider: instances are real lab hosts (systemd-nspawn, systemd as PID 1, sshd).

Create -> configure -> check runs for real here. What the provider's API would keep (tags, the
idempotency token, the instance record) is kept in ``cloud.json`` inside the lab's own directory,
so ``fleetops lab down`` removes it with the hosts. Regions and zones are labels; an instance
type is a memory limit on the host's cgroup (real, enforced by the kernel). Windows cannot run in
a container: asking for it is refused by the offer check. Firewall rules are recorded, not
enforced (the lab bridge has no security groups).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable

from fleetops.cloud.errors import CloudError, NotOffered
from fleetops.cloud.instance import TAG_EXPIRES, TAG_NAME, Instance
from fleetops.cloud.provider import FleetKeys, Launch, Prepared, Provider
from fleetops.cloud.spec import CloudSpec, FirewallRule
from fleetops.errors import InputError
from fleetops.fileutil import atomic_write_text
from fleetops.lab.inventory_file import connection_data
from fleetops.lab.spec import LAB_NAME, parse_spec

REGIONS = {"lab": ["lab-a", "lab-b"]}
# instance type -> the host's memory limit in MiB (its cgroup's memory.max)
TYPES = {"lab.nano": 256, "lab.small": 512, "lab.medium": 1024, "lab.large": 2048}
IMAGES = {"debian-12": "lab-golden-debian-12"}


class LocalProvider(Provider):
    name = "local"
    honesty = "real lab hosts (systemd-nspawn); regions and zones are labels, types are cgroup memory limits"

    def __init__(self, spec: CloudSpec) -> None:
        super().__init__(spec)
        from fleetops.lab.fleet import Lab

        lab_name = spec.lab or spec.fleet
        if not LAB_NAME.fullmatch(lab_name):
            raise InputError(
                f"fleet {spec.fleet!r} is not a lab name (1-10 lowercase letters and digits): set `lab:` in the spec"
            )
        self.lab = Lab(lab_name)
        self.registry_file = self.lab.dir / "cloud.json"

    # ----- the registry: what a cloud API would remember -------------------------------------
    def _registry(self) -> dict:
        try:
            data = json.loads(self.registry_file.read_text())
        except FileNotFoundError:
            data = {"fleet": self.spec.fleet, "instances": {}}
        if data["fleet"] != self.spec.fleet:
            raise InputError(f"lab {self.lab.name} belongs to fleet {data['fleet']!r}, not {self.spec.fleet!r}")
        return data

    def _save(self, data: dict) -> None:
        atomic_write_text(self.registry_file, json.dumps(data, indent=2, sort_keys=True))

    def _claim_lab(self) -> None:
        """Refuse a lab that runs but was not made by this provider (its hosts are not instances)."""
        if self.lab.load_state() is not None and not self.registry_file.exists():
            raise InputError(f"lab {self.lab.name} is up but is not a cloud fleet; pick another `lab:` name")

    # ----- offers ----------------------------------------------------------------------------
    def regions(self) -> list[str]:
        return list(REGIONS)

    def zones(self, region: str) -> list[str]:
        return REGIONS.get(region, [])

    def instance_types(self, region: str, zone: str | None = None) -> list[str]:
        return sorted(TYPES)

    def resolve_image(self, region: str, alias: str, os: str) -> str:
        if os == "windows":
            raise NotOffered("the local provider cannot run Windows: no Windows image runs in a Linux container")
        if alias not in IMAGES:
            raise NotOffered(f"image {alias!r}: the local provider offers {', '.join(sorted(IMAGES))}")
        return IMAGES[alias]

    # ----- fleet -----------------------------------------------------------------------------
    def live(self, regions: Iterable[str] = ()) -> list[Instance]:
        if not self.registry_file.exists():
            return []
        lab_state = self.lab.load_state() or {"hosts": {}}
        found = []
        for name, entry in sorted(self._registry()["instances"].items()):
            host = lab_state["hosts"].get(name)
            if entry["state"] != "pending" and host is None:
                continue  # the lab lost it (taken down by hand): gone, as a terminated instance
            state = entry["state"]
            if state != "pending":
                state = "running" if self.lab.host_running(name) else "stopped"
            found.append(
                Instance(
                    name=name,
                    id=entry["id"],
                    state=state,
                    os="linux",
                    image=entry["image_id"],
                    region=entry["region"],
                    zone=entry["zone"],
                    instance_type=entry["instance_type"],
                    private_ip=host["address"] if host else None,
                    expires=entry["tags"].get(TAG_EXPIRES),
                    tags=entry["tags"],
                )
            )
        return found

    def prepare(self, region: str, keys: FleetKeys, firewall: list[FirewallRule]) -> Prepared:
        self._claim_lab()
        return Prepared()

    def create(self, launch: Launch, prepared: Prepared) -> str:
        data = self._registry()
        for entry in data["instances"].values():
            if entry["token"] == launch.token:  # the same request again: the same instance
                return entry["id"]
        want = launch.wanted
        if want.name in data["instances"]:
            raise CloudError(f"local: {want.name} exists already ({data['instances'][want.name]['id']})")
        used = {entry["slot"] for entry in data["instances"].values()}
        data["instances"][want.name] = {
            "id": f"lab-{secrets.token_hex(6)}",
            "slot": min(set(range(len(used) + 1)) - used),
            "state": "pending",
            "token": launch.token,
            "image_id": launch.image_id,
            "region": want.region,
            "zone": want.zone,
            "instance_type": want.instance_type,
            "groups": list(want.groups),
            "tags": {**launch.tags, TAG_NAME: want.name},
        }
        self.lab.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._save(data)
        return data["instances"][want.name]["id"]

    def _converge(self, data: dict) -> None:
        """Bring the lab to the registry: boot what is missing, remove what is gone."""
        from fleetops.lab.fleet import free_subnet

        if not data["instances"]:
            self.lab.down()
            return
        state = self.lab.load_state()
        subnet = state["spec"]["subnet"] if state else (self.spec.subnet or free_subnet(self.lab.name))
        hosts = [
            {
                "name": name,
                "groups": entry["groups"],
                "slot": entry["slot"],
                "memory_max_mb": TYPES[entry["instance_type"]],
            }
            for name, entry in sorted(data["instances"].items(), key=lambda item: item[1]["slot"])
        ]
        spec = parse_spec({"name": self.lab.name, "subnet": subnet, "hosts": hosts}, source=f"fleet {self.spec.fleet}")
        status = self.lab.up(spec)
        broken = [f"{h.name}: {h.error or h.system_state}" for h in status.hosts if h.action != "removed" and not h.ssh]
        if broken:
            raise CloudError("local: hosts did not come up: " + "; ".join(broken))

    def wait(self, instances: list[Instance], state: str, timeout: float) -> None:
        if state != "running":
            return  # stop and destroy are synchronous here
        data = self._registry()
        self._converge(data)
        for entry in data["instances"].values():
            entry["state"] = "running"
        self._save(data)

    def stop(self, instances: list[Instance]) -> None:
        for instance in instances:
            self.lab.halt(instance.name)

    def start(self, instances: list[Instance]) -> None:
        statuses = self.lab.start([instance.name for instance in instances])
        broken = [f"{s.name}: {s.error or s.system_state}" for s in statuses if not s.ssh]
        if broken:
            raise CloudError("local: hosts did not start: " + "; ".join(broken))

    def destroy(self, instances: list[Instance]) -> None:
        data = self._registry()
        for instance in instances:
            data["instances"].pop(instance.name, None)
        if data["instances"]:
            self._save(data)
        self._converge(data)

    def connection(self, instance: Instance) -> dict | None:
        if instance.private_ip is None:
            return None
        return connection_data(instance.private_ip, self.lab.key_file, self.lab.known_hosts)
