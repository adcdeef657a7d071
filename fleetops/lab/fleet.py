"""Bring a local lab fleet up and down, report its status, and write its inventory.

A lab lives in ``<state>/labs/<name>/``: ``state.json`` (what is running), ``inventory.py`` and
``known_hosts`` (a normal pyinfra inventory every verb uses), the controller's SSH key, and one
directory per host holding its overlay (upper, work, merged). ``up`` is idempotent: hosts that
already run are left alone, missing ones are started, hosts no longer in the spec are removed.
``down`` leaves no mount, bridge, veth, NAT rule, cgroup or process behind.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from fleetops.errors import EnvironmentProblem, InputError
from fleetops.lab import cgroups, network
from fleetops.lab.image import ImageRecipe, ensure_image
from fleetops.lab.inventory_file import write_inventory
from fleetops.lab.keys import controller_key_file, ensure_controller_key
from fleetops.lab.limits import ensure_inotify_instances
from fleetops.lab.spec import LabHost, LabSpec, validate_lab_name
from fleetops.lab.system import require_tools, run
from fleetops.lab.userns import base_for, shift_tree, shifted_image
from fleetops.paths import state_dir
from fleetops import sshutil

log = logging.getLogger("fleetops.lab")

BOOT_TIMEOUT = 90.0


def labs_dir() -> Path:
    return state_dir() / "labs"


def lab_dir(name: str) -> Path:
    return labs_dir() / name


@dataclass
class HostStatus:
    """What ``lab up``/``lab status`` report for one host."""

    name: str
    address: str
    groups: list[str]
    running: bool
    ssh: bool = False
    system_state: str = "unknown"
    action: str = "none"  # started | kept | removed | none
    error: str | None = None


@dataclass
class LabStatus:
    name: str
    inventory: Path
    hosts: list[HostStatus] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def healthy(self) -> bool:
        return all(h.running and h.ssh and h.system_state == "running" for h in self.hosts)


class Lab:
    """One named lab on this machine."""

    def __init__(self, name: str) -> None:
        self.name = validate_lab_name(name)
        self.dir = lab_dir(self.name)
        self.state_file = self.dir / "state.json"
        self.key_file = controller_key_file()  # one controller key for every lab (fleetops.lab.keys)
        self.known_hosts = self.dir / "known_hosts"
        self.inventory = self.dir / "inventory.py"

    # ----- persisted state -------------------------------------------------------------
    def load_state(self) -> dict | None:
        try:
            return json.loads(self.state_file.read_text())
        except FileNotFoundError:
            return None

    def _save_state(self, state: dict) -> None:
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=2, sort_keys=True))
        tmp.rename(self.state_file)

    def host_dir(self, host: str) -> Path:
        return self.dir / "hosts" / host

    # ----- up --------------------------------------------------------------------------
    def up(self, spec: LabSpec, progress: Callable[[str], None] = lambda _msg: None) -> LabStatus:
        """Converge the running lab to ``spec``; returns per-host status."""
        _require_root()
        require_tools("systemd-nspawn", "ip", "iptables", "ssh-keygen", "mount")
        started = time.monotonic()
        state = self.load_state()
        if state and state["spec"]["subnet"] != str(spec.subnet):
            raise InputError(
                f"lab {self.name} runs on {state['spec']['subnet']}; run 'fleetops lab down' "
                f"before changing its subnet to {spec.subnet}"
            )
        if spec.name != self.name:
            raise InputError(f"lab {self.name}: the spec names lab {spec.name!r}")
        _check_subnet_free(self.name, spec)
        network.check_not_local(spec.subnet, spec.bridge)
        progress("golden image")
        image = ensure_image(ImageRecipe())
        self.dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.dir, 0o700)
        ensure_controller_key()
        state = state or {"name": self.name, "ip_forward_before": network.read_ip_forward(), "hosts": {}}
        state["spec"] = json.loads(spec.model_dump_json())
        if spec.private_users:
            state["uid_base"] = base_for(self.name)
            progress("user-namespaced image")
            image = shifted_image(image, state["uid_base"])
        else:
            state.pop("uid_base", None)
        state["image"] = str(image)
        self._save_state(state)
        progress("network")
        network.up(spec.bridge, spec.gateway, spec.subnet, self.name)

        wanted = {host.name for host in spec.hosts}
        statuses: list[HostStatus] = []
        for gone in sorted(set(state["hosts"]) - wanted):
            self._stop_host(gone, state["hosts"][gone])
            del state["hosts"][gone]
            statuses.append(HostStatus(gone, "", [], running=False, action="removed"))

        to_start: list[tuple[int, LabHost]] = []
        for index, host in enumerate(spec.hosts):
            record = state["hosts"].get(host.name)
            address = str(spec.host_address(index))
            if record and record["address"] != address:
                self._stop_host(host.name, record)
                record = None
            if record and _launcher_alive(record.get("launcher_pid"), self.name, host.name):
                record["groups"] = host.groups
                continue
            to_start.append((index, host))

        progress(f"starting {len(to_start)} host(s)")
        if to_start:
            ensure_inotify_instances(
                len(spec.hosts)
                + sum(
                    len((Lab(other).load_state() or {}).get("hosts", {}))
                    for other in running_labs()
                    if other != self.name
                )
            )
        for index, host in to_start:
            address = str(spec.host_address(index))
            pid = self._start_host(spec, host, address, image, state.get("uid_base"))
            state["hosts"][host.name] = {"address": address, "groups": host.groups, "launcher_pid": pid}
        self._save_state(state)
        self._write_inventory(spec, state)

        progress("waiting for systemd and sshd")
        started_names = {host.name for _i, host in to_start}
        statuses.extend(self._probe_all(spec, state, wait=True))
        for status in statuses:
            if status.action == "none":
                status.action = "started" if status.name in started_names else "kept"
        return LabStatus(self.name, self.inventory, statuses, time.monotonic() - started)

    def _start_host(self, spec: LabSpec, host: LabHost, address: str, image: Path, uid_base: int | None) -> int:
        hdir = self.host_dir(host.name)
        upper, work, merged, baseline = hdir / "upper", hdir / "work", hdir / "merged", hdir / "baseline"
        fresh = not upper.exists() and not baseline.exists()
        for path in (upper, work, merged):
            path.mkdir(parents=True, exist_ok=True)
        if uid_base is not None:
            os.chown(upper, uid_base, uid_base)
        lower = f"{baseline}:{image}" if baseline.is_dir() else str(image)
        mount = ["mount", "-t", "overlay", "overlay", "-o", f"lowerdir={lower},upperdir={upper},workdir={work}"]
        if not os.path.ismount(merged):
            run([*mount, str(merged)])
        if fresh:
            self._personalise(merged, spec, host, address)
            if uid_base is not None:
                # the layer's files get the range's owners; an overlay must not see its upper
                # layer change under it (it keeps the old owners cached), so mount it afresh
                run(["umount", str(merged)])
                shift_tree(upper, uid_base)
                run([*mount, str(merged)])
        userns = [f"--private-users={uid_base}:65536", "--private-users-ownership=off"] if uid_base is not None else []
        machine = f"{self.name}-{host.name}"
        network.remove_stale_veth(machine)
        argv = [
            sys.executable,
            "-m",
            "fleetops.lab.launcher",
            self.name,
            host.name,
            *(["--memory-max", str(host.memory_max_mb * 2**20)] if host.memory_max_mb else []),
            "--",
            "systemd-nspawn",
            "--boot",
            "--register=no",
            "--keep-unit",
            "--console=passive",
            "--resolv-conf=copy-host",
            "--timezone=off",
            "--quiet",
            f"--directory={merged}",
            f"--machine={machine}",
            f"--network-bridge={spec.bridge}",
            *userns,
        ]
        with open(hdir / "console.log", "ab") as console:
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=console,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                close_fds=True,
            )
        return proc.pid

    def _personalise(self, root: Path, spec: LabSpec, host: LabHost, address: str) -> None:
        """Give a new host its identity: hostname, machine id, address, keys."""
        (root / "etc/hostname").write_text(f"{host.name}\n")
        (root / "etc/hosts").write_text(f"127.0.0.1\tlocalhost\n127.0.1.1\t{host.name}\n")
        (root / "etc/machine-id").write_text(uuid.uuid4().hex + "\n")
        netdir = root / "etc/systemd/network"
        netdir.mkdir(parents=True, exist_ok=True)
        (netdir / "10-host0.network").write_text(
            f"[Match]\nName=host0\n\n[Network]\nAddress={address}/{spec.subnet.prefixlen}\nGateway={spec.gateway}\n"
        )
        hostkey = root / "etc/ssh/ssh_host_ed25519_key"
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"root@{host.name}", "-f", str(hostkey)])
        sshdir = root / "root/.ssh"
        sshdir.mkdir(mode=0o700, parents=True, exist_ok=True)
        authorized = sshdir / "authorized_keys"
        authorized.write_text(Path(str(self.key_file) + ".pub").read_text())
        os.chmod(authorized, 0o600)

    def _write_inventory(self, spec: LabSpec, state: dict) -> None:
        host_keys = {}
        for name in state["hosts"]:
            pub = self.layer_file(name, "etc/ssh/ssh_host_ed25519_key.pub")
            host_keys[name] = " ".join(pub.read_text().split()[:2])
        lines = [f"{state['hosts'][name]['address']} {key}\n" for name, key in host_keys.items()]
        self.known_hosts.write_text("".join(lines))
        link = self.dir / "group_data"
        if link.is_symlink() or link.exists():
            link.unlink()
        if spec.group_data is not None:
            link.symlink_to(spec.group_data)
        write_inventory(self.inventory, spec, state["hosts"], self.key_file, self.known_hosts)

    # ----- probing ---------------------------------------------------------------------
    def _probe_all(self, spec: LabSpec, state: dict, wait: bool) -> list[HostStatus]:
        names = [host.name for host in spec.hosts if host.name in state["hosts"]]
        with ThreadPoolExecutor(max_workers=max(1, min(16, len(names)))) as pool:
            return list(pool.map(lambda n: self._probe(n, state["hosts"][n], wait), names))

    def _probe(self, name: str, record: dict, wait: bool) -> HostStatus:
        status = HostStatus(
            name,
            record["address"],
            record["groups"],
            running=_launcher_alive(record.get("launcher_pid"), self.name, name),
        )
        if not status.running:
            return status
        deadline = time.monotonic() + (BOOT_TIMEOUT if wait else 2.0)
        while True:
            try:
                client = sshutil.connect(
                    record["address"], user="root", key_file=self.key_file, known_hosts=self.known_hosts, timeout=2.0
                )
                break
            except Exception as error:  # noqa: BLE001 - any failure means "not yet"
                if time.monotonic() > deadline:
                    status.error = f"ssh: {error or type(error).__name__}"
                    return status
                time.sleep(0.2)
        status.ssh = True
        try:
            cmd = "systemctl is-system-running --wait" if wait else "systemctl is-system-running"
            _code, out, _err = sshutil.exec_command(client, cmd, timeout=BOOT_TIMEOUT)
            status.system_state = out.strip() or "unknown"
            if status.system_state == "degraded":
                _c, failed, _e = sshutil.exec_command(client, "systemctl --failed --plain --no-legend | cut -d' ' -f1")
                status.error = "failed units: " + ", ".join(failed.split())
        finally:
            client.close()
        return status

    def status(self) -> LabStatus:
        state = self.load_state()
        if state is None:
            raise InputError(f"no lab named {self.name!r} is up (run 'fleetops lab up')")
        spec = LabSpec.model_validate(state["spec"])
        return LabStatus(self.name, self.inventory, self._probe_all(spec, state, wait=False))

    # ----- down ------------------------------------------------------------------------
    def down(self) -> list[str]:
        """Stop every host and remove everything the lab created; returns removed host names."""
        _require_root()
        state = self.load_state()
        removed: list[str] = []
        hosts = dict(state["hosts"]) if state else {}
        for orphan in self._orphan_hosts(set(hosts)):
            hosts[orphan] = {}
        with ThreadPoolExecutor(max_workers=max(1, min(16, len(hosts)))) as pool:
            list(pool.map(lambda item: self._stop_host(*item), hosts.items()))
        removed.extend(sorted(hosts))
        if state:
            spec = LabSpec.model_validate(state["spec"])
            others = [p for p in labs_dir().glob("*/state.json") if p.parent.name != self.name]
            network.down(spec.bridge, spec.subnet, self.name, None if others else state.get("ip_forward_before"))
        self._remove_own_directory()
        return removed

    def _remove_own_directory(self) -> None:
        """Delete the lab's directory, and only when it really is one: directly under
        ``labs_dir()`` and not a symlink (the name is validated too, so no ``..`` or ``/``)."""
        if not self.dir.exists() and not self.dir.is_symlink():
            return
        if self.dir.is_symlink() or self.dir.resolve().parent != labs_dir().resolve():
            raise InputError(f"lab {self.name}: {self.dir} is not a lab directory; not removing it")
        shutil.rmtree(self.dir)

    def _orphan_hosts(self, known: set[str]) -> set[str]:
        hosts_dir = self.dir / "hosts"
        if not hosts_dir.is_dir():
            return set()
        return {p.name for p in hosts_dir.iterdir() if p.is_dir()} - known

    def _stop_host(self, name: str, record: dict) -> None:
        self._halt_host(name, record)
        shutil.rmtree(self.host_dir(name), ignore_errors=True)

    def _halt_host(self, name: str, record: dict) -> None:
        """Stop a host's container and unmount it; its layers stay on disk."""
        pid = record.get("launcher_pid")
        if pid and _launcher_alive(pid, self.name, name):
            os.kill(pid, signal.SIGTERM)
            _wait_gone(pid, 20.0)
        for leftover in cgroups.pids(self.name, name):
            try:
                os.kill(leftover, signal.SIGKILL)
            except ProcessLookupError:
                pass
        merged = self.host_dir(name) / "merged"
        deadline = time.monotonic() + 10
        while os.path.ismount(merged):
            if run(["umount", str(merged)], check=False).returncode != 0:
                if time.monotonic() > deadline:
                    run(["umount", "--lazy", str(merged)], check=False)
                    break
                time.sleep(0.2)
        cgroups.remove(self.name, name)
        network.remove_stale_veth(f"{self.name}-{name}")

    # ----- layers (exam seats) -------------------------------------------------------------
    def layer_file(self, name: str, relative: str) -> Path:
        """A file of a host as its layers hold it: the upper layer, else the frozen baseline
        (the golden image below is not consulted)."""
        for layer in ("upper", "baseline"):
            path = self.host_dir(name) / layer / relative
            if path.exists():
                return path
        return self.host_dir(name) / "upper" / relative

    def halt(self, name: str) -> None:
        """Stop one host, keeping its layers (``start`` boots it again)."""
        _require_root()
        state = self._state_or_fail()
        self._halt_host(name, state["hosts"][self._known(state, name)])
        state["hosts"][name]["launcher_pid"] = None
        self._save_state(state)

    def start(self, names: list[str]) -> list[HostStatus]:
        """Boot stopped hosts again (from their layers) and wait until they serve SSH."""
        _require_root()
        state = self._state_or_fail()
        spec = LabSpec.model_validate(state["spec"])
        index = {host.name: (i, host) for i, host in enumerate(spec.hosts)}
        for name in names:
            record = state["hosts"][self._known(state, name)]
            if _launcher_alive(record.get("launcher_pid"), self.name, name):
                continue
            i, host = index[name]
            record["launcher_pid"] = self._start_host(
                spec, host, record["address"], Path(state["image"]), state.get("uid_base")
            )
        self._save_state(state)
        return [self._probe(name, state["hosts"][name], wait=True) for name in names]

    def freeze(self, name: str) -> Path:
        """Make a stopped host's changes so far its read-only baseline layer and give it a new
        empty upper layer. Returns the baseline layer. Refused when it already has one."""
        hdir = self.host_dir(name)
        if (hdir / "baseline").exists():
            raise InputError(f"{name} already has a baseline layer")
        self._require_halted(name)
        (hdir / "upper").rename(hdir / "baseline")
        self._fresh_upper(name)
        return hdir / "baseline"

    def replace_upper(self, name: str, keep: Path | None = None) -> None:
        """Discard a stopped host's upper layer (moved to ``keep`` when given) for an empty one."""
        self._require_halted(name)
        upper = self.host_dir(name) / "upper"
        if keep is not None:
            keep.parent.mkdir(parents=True, exist_ok=True)
            upper.rename(keep)
        else:
            shutil.rmtree(upper)
        self._fresh_upper(name)

    def _fresh_upper(self, name: str) -> None:
        hdir = self.host_dir(name)
        shutil.rmtree(hdir / "work", ignore_errors=True)
        (hdir / "upper").mkdir()
        (hdir / "work").mkdir()
        base = (self.load_state() or {}).get("uid_base")
        if base is not None:
            os.chown(hdir / "upper", base, base)

    def _require_halted(self, name: str) -> None:
        if os.path.ismount(self.host_dir(name) / "merged"):
            raise InputError(f"{name} is running; stop it first")

    def host_running(self, name: str) -> bool:
        """Whether host ``name`` of this lab is booted (its launcher process is alive)."""
        record = (self.load_state() or {}).get("hosts", {}).get(name)
        return bool(record) and _launcher_alive(record.get("launcher_pid"), self.name, name)

    def uid_base(self) -> int | None:
        return (self.load_state() or {}).get("uid_base")

    def _state_or_fail(self) -> dict:
        state = self.load_state()
        if state is None:
            raise InputError(f"no lab named {self.name!r} is up")
        return state

    def _known(self, state: dict, name: str) -> str:
        if name not in state["hosts"]:
            raise InputError(f"lab {self.name} has no host {name!r}")
        return name


def _require_root() -> None:
    if os.geteuid() != 0:
        raise EnvironmentProblem("the lab fleet needs root (systemd-nspawn, mounts, bridges)")


def _lab_subnets() -> dict[str, ipaddress.IPv4Network]:
    """The subnet of every lab with a state file on this machine."""
    return {
        path.parent.name: ipaddress.IPv4Network(json.loads(path.read_text())["spec"]["subnet"])
        for path in labs_dir().glob("*/state.json")
    }


def _check_subnet_free(name: str, spec: LabSpec) -> None:
    for other, subnet in _lab_subnets().items():
        if other != name and spec.subnet.overlaps(subnet):
            raise InputError(f"subnet {spec.subnet} overlaps lab {other!r}; choose another subnet in the spec")


def free_subnet(name: str) -> str:
    """The lab's current subnet if it runs, else the first 10.N.0.0/24 (N >= 77) no lab uses."""
    used = _lab_subnets()
    if name in used:
        return str(used[name])
    for second in range(77, 200):
        candidate = ipaddress.IPv4Network(f"10.{second}.0.0/24")
        if not any(candidate.overlaps(net) for net in used.values()):
            return str(candidate)
    raise InputError("no free 10.N.0.0/24 subnet for another lab")


def _launcher_alive(pid: int | None, lab: str, host: str) -> bool:
    """True when ``pid`` is still this host's launcher (guards against PID reuse)."""
    if not pid:
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return b"fleetops.lab.launcher" in cmdline and lab.encode() in cmdline and host.encode() in cmdline


def _wait_gone(pid: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def running_labs() -> list[str]:
    """Names of labs with a state file on this machine."""
    return sorted(p.parent.name for p in labs_dir().glob("*/state.json"))
