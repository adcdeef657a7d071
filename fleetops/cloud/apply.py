"""``cloud plan`` and ``cloud apply``: offers checked, plan by tag, create retry-safe, wait for
running and for SSH with pinned host keys, write the inventory, deploy and check, in one run.

Each phase is timed and recorded; a phase that fails stops the run there with its reason, and
what was done before it stays recorded (the run record covers the cloud phases and the deploy).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import string
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from fleetops import sshutil
from fleetops.cloud import keys as fleet_keys
from fleetops.cloud.errors import CloudError, TransientCloudError
from fleetops.cloud.instance import TAG_EXPIRES, TAG_FLEET, TAG_IMAGE, TAG_NAME, TAG_OS, Instance
from fleetops.cloud.inventory_file import host_data, write_inventory
from fleetops.cloud.plan import Action, changes, plan
from fleetops.cloud.provider import FleetKeys, Launch, Prepared, Provider
from fleetops.cloud.spec import CloudSpec, Wanted
from fleetops.cloud.state import FleetState
from fleetops.errors import FleetopsError, InputError
from fleetops.fileutil import atomic_write_text
from fleetops.lab.inventory_file import connection_data
from fleetops.secrets import redact

log = logging.getLogger("fleetops.cloud")

CREATE_ATTEMPTS = 3
LOOKUP_TRIES = 4  # a created instance can take a moment to show up in a listing
SSH_TIMEOUT = 300.0


@dataclass
class Phase:
    """One timed step of a cloud run."""

    name: str
    seconds: float = 0.0
    status: str = "ok"  # ok | failed | skipped
    detail: str = ""

    def to_dict(self) -> dict:
        return {"name": self.name, "seconds": round(self.seconds, 3), "status": self.status, "detail": self.detail}


@dataclass
class CloudRun:
    """What a plan or apply found and did; the CLI prints it and puts it in the run record."""

    spec: CloudSpec
    provider: str
    honesty: str
    actions: list[Action] = field(default_factory=list)
    phases: list[Phase] = field(default_factory=list)
    instances: list[Instance] = field(default_factory=list)
    created: dict[str, str] = field(default_factory=dict)  # name -> id; "adopted" ids too
    adopted: list[str] = field(default_factory=list)  # creates whose answer was lost, found by tag
    images: dict[str, str] = field(default_factory=dict)  # name -> the image id its alias resolved to
    inventory: Path | None = None
    error: str | None = None

    @property
    def failed(self) -> bool:
        return self.error is not None

    def to_dict(self) -> dict:
        return {
            "fleet": self.spec.fleet,
            "provider": self.provider,
            "emulated": self.spec.emulated,
            "honesty": self.honesty,
            "actions": [action.to_dict() for action in self.actions],
            "phases": [phase.to_dict() for phase in self.phases],
            "instances": [_public(instance) for instance in self.instances],
            "created": self.created,
            "adopted": self.adopted,
            "inventory": str(self.inventory) if self.inventory else None,
            "error": self.error,
        }


def _public(instance: Instance) -> dict:
    data = instance.to_dict()
    data.pop("tags")
    return data


class Phases:
    """Times phases into a CloudRun; a FleetopsError ends the phase (and the run) as failed."""

    def __init__(self, run: CloudRun, progress: Callable[[str], None]) -> None:
        self.run, self.progress = run, progress

    def __call__(self, name: str):
        return _PhaseTimer(self, name)


class _PhaseTimer:
    def __init__(self, owner: Phases, name: str) -> None:
        self.owner, self.phase = owner, Phase(name)

    def __enter__(self) -> Phase:
        self.owner.progress(self.phase.name)
        self.started = time.monotonic()
        return self.phase

    def __exit__(self, kind, error, _tb) -> None:
        self.phase.seconds = time.monotonic() - self.started
        self.owner.run.phases.append(self.phase)
        if isinstance(error, FleetopsError):
            self.phase.status = "failed"
            self.phase.detail = redact(str(error))
            self.owner.run.error = f"{self.phase.name}: {self.phase.detail}"


def regions_of(spec: CloudSpec) -> list[str]:
    return sorted({wanted.region for wanted in spec.wanted()})


def make_plan(spec: CloudSpec, provider: Provider, progress: Callable[[str], None] = lambda _m: None) -> CloudRun:
    """Check what the provider offers, list the fleet by tag and diff: read-only."""
    run = CloudRun(spec, provider.name, provider.honesty)
    phases = Phases(run, progress)
    wanted = spec.wanted()
    with phases("offers") as phase:
        run.images = provider.check_offered(wanted, progress)
        phase.detail = f"{len(wanted)} instance(s) offered"
    with phases("plan") as phase:
        run.instances = provider.live(regions_of(spec))
        run.actions = plan(wanted, run.instances)
        counts = {verb: sum(a.verb == verb for a in run.actions) for verb in ("create", "start", "keep", "drift")}
        phase.detail = ", ".join(f"{n} {verb}" for verb, n in counts.items() if n) or "nothing declared"
    return run


def client_token(run_id: str, spec: CloudSpec, wanted: Wanted) -> str:
    """Retry safety within one run: the same request gives the same token; a later run gets a new
    one (a token reused after an instance was destroyed would bring back the destroyed one)."""
    text = "|".join([run_id, spec.fleet, wanted.model_dump_json()])
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def windows_password() -> str:
    """A random administrator password meeting Windows' and Aliyun's complexity rules."""
    alphabet = string.ascii_letters + string.digits + "()`~!@#$%^&*-+=|{}[]:;<>,.?/"
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(20))
        classes = [any(c in group for c in candidate) for group in (string.ascii_lowercase, string.ascii_uppercase)]
        classes += [any(c.isdigit() for c in candidate), any(not c.isalnum() for c in candidate)]
        if all(classes):
            return candidate


def apply(
    spec: CloudSpec,
    provider: Provider,
    run_id: str,
    progress: Callable[[str], None] = lambda _m: None,
    ssh_timeout: float = SSH_TIMEOUT,
) -> CloudRun:
    """Create what is missing, start what is stopped, wait for running and SSH, write the
    inventory. Deploy and checks are the caller's next phases (``fleetops.cloud.run``)."""
    run = make_plan(spec, provider, progress)
    phases = Phases(run, progress)
    state = FleetState(spec.fleet).ensure()
    todo = changes(run.actions)
    try:
        with phases("create") as phase:
            creates = [action for action in todo if action.verb == "create"]
            if creates:
                _create_all(spec, provider, run, state, creates, run_id, progress)
            phase.detail = f"{len(creates)} created ({len(run.adopted)} found by tag after a lost answer)"
            if not creates:
                phase.status = "skipped"
        with phases("start") as phase:
            stopped = [action.instance for action in todo if action.verb == "start" and action.instance]
            if stopped:
                provider.start(stopped)
            phase.detail = f"{len(stopped)} started"
            if not stopped:
                phase.status = "skipped"
        with phases("running") as phase:
            names = {wanted.name for wanted in spec.wanted()}
            live = [i for i in provider.live(regions_of(spec)) if i.name in names]
            if any(i.state != "running" for i in live) or todo:
                provider.wait(live, "running", timeout=ssh_timeout)
                live = [i for i in provider.live(regions_of(spec)) if i.name in names]
            run.instances = live
            phase.detail = ", ".join(f"{i.name} {i.state}" for i in live)
        with phases("ssh") as phase:
            phase.detail = _wait_ssh(spec, provider, run, state, ssh_timeout)
        with phases("inventory") as phase:
            run.inventory = _write(spec, provider, run, state)
            phase.detail = str(run.inventory)
    except FleetopsError:
        pass  # recorded in the phase; the caller reports it
    return run


def _create_all(
    spec: CloudSpec,
    provider: Provider,
    run: CloudRun,
    state: FleetState,
    creates: list[Action],
    run_id: str,
    progress: Callable[[str], None],
) -> None:
    windows = any(action.wanted and action.wanted.os == "windows" for action in creates)
    keys = fleet_keys.fleet_keys(state, windows=windows)
    prepared: dict[str, Prepared] = {}
    for action in creates:
        want = action.wanted
        assert want is not None
        if want.region not in prepared:
            prepared[want.region] = provider.prepare(want.region, keys, spec.firewall)
        launch = _launch(spec, provider, state, keys, want, run.images[want.name], run_id)
        progress(f"create {want.name}")
        run.created[want.name] = create_once(provider, launch, prepared[want.region], run)


def _launch(
    spec: CloudSpec, provider: Provider, state: FleetState, keys: FleetKeys, want: Wanted, image_id: str, run_id: str
) -> Launch:
    tags = {TAG_FLEET: spec.fleet, TAG_NAME: want.name, TAG_OS: want.os, TAG_IMAGE: want.image}
    if want.ttl_s:
        expires = datetime.now(timezone.utc) + timedelta(seconds=want.ttl_s)
        tags[TAG_EXPIRES] = expires.isoformat(timespec="seconds").replace("+00:00", "Z")
    launch = Launch(want, spec.fleet, image_id, client_token(run_id, spec, want), tags)
    if want.os == "linux" and provider.name != "local":
        private, public = fleet_keys.host_key(state, want.name)
        launch.user_data = fleet_keys.linux_user_data(private, public, spec.ssh_user, keys.public_key)
    if want.os == "windows" and provider.name == "aliyun":
        launch.password = state.password(want.name) or windows_password()
        state.remember_password(want.name, launch.password)
    return launch


def create_once(provider: Provider, launch: Launch, prepared: Prepared, run: CloudRun) -> str:
    """Send a create; when its answer is lost, look for the instance by its tags before sending
    it again, so a retry never makes a second instance."""
    want = launch.wanted
    last: Exception | None = None
    for _attempt in range(CREATE_ATTEMPTS):
        try:
            return provider.create(launch, prepared)
        except TransientCloudError as error:
            last = error
            log.warning("create %s: %s; looking it up by its tags before trying again", want.name, error)
            for _try in range(LOOKUP_TRIES):
                found = [i for i in provider.live([want.region]) if i.name == want.name]
                if found:
                    run.adopted.append(want.name)
                    return found[0].id
                time.sleep(0.5)
    raise CloudError(f"create {want.name}: no answer after {CREATE_ATTEMPTS} attempts ({last})")


def _wait_ssh(spec: CloudSpec, provider: Provider, run: CloudRun, state: FleetState, timeout: float) -> str:
    """Every running Linux instance answers SSH with the host key pinned at creation."""
    linux = [i for i in run.instances if i.os == "linux" and i.state == "running"]
    if not linux:
        return "no running Linux instance"
    if all(provider.connection(instance) for instance in linux):
        return f"{len(linux)} up with SSH (the lab waited for them; host keys pinned when it made them)"
    if spec.emulated:
        return f"not contacted: {spec.endpoint} is an emulator, its addresses are not hosts"
    lines = []
    for instance in linux:
        if not instance.address:
            raise CloudError(f"{instance.name} ({instance.id}) has no address")
        _private, public = fleet_keys.host_key(state, instance.name)
        lines.append(fleet_keys.known_hosts_line(instance.address, public))
    atomic_write_text(state.known_hosts, "".join(lines))
    deadline = time.monotonic() + timeout
    for instance in linux:
        _connect_until(instance, spec.ssh_user, state, deadline)
    return f"{len(linux)} answered with their pinned host key"


def _connect_until(instance: Instance, user: str, state: FleetState, deadline: float) -> None:
    last = ""
    while time.monotonic() < deadline:
        try:
            client = sshutil.connect(
                instance.address or "", user=user, key_file=state.key_file, known_hosts=state.known_hosts, timeout=5.0
            )
            client.close()
            return
        except Exception as error:  # noqa: BLE001 - "not yet" until the deadline
            last = f"{type(error).__name__}: {error}"
            time.sleep(2.0)
    raise CloudError(f"{instance.name}: no SSH with the pinned host key in time ({last})")


def _write(spec: CloudSpec, provider: Provider, run: CloudRun, state: FleetState) -> Path:
    hosts, groups = {}, {}
    declared = {wanted.name: wanted for wanted in spec.wanted()}
    for instance in [] if spec.emulated else run.instances:  # an emulator's addresses are not hosts
        if instance.os != "linux" or instance.state != "running" or instance.name not in declared:
            continue
        connection = provider.connection(instance)
        if connection is None:
            if not instance.address:
                continue
            connection = connection_data(instance.address, state.key_file, state.known_hosts, user=spec.ssh_user)
            if spec.ssh_user != "root":
                connection["_sudo"] = True
        hosts[instance.name] = host_data(instance, provider.name, connection)
        groups[instance.name] = list(declared[instance.name].groups)
    write_inventory(state.inventory, spec.fleet, hosts, groups, spec.group_data)
    return state.inventory


def select(provider: Provider, spec: CloudSpec, names: list[str] | tuple[str, ...]) -> list[Instance]:
    """The fleet's live instances named ``names`` (all when empty); InputError naming any unknown one."""
    live = provider.live(regions_of(spec))
    unknown = sorted(set(names) - {instance.name for instance in live})
    if unknown:
        raise InputError(f"fleet {spec.fleet} has no instance {', '.join(unknown)}")
    return [instance for instance in live if not names or instance.name in names]


def destroy(provider: Provider, spec: CloudSpec, names: list[str], expired_only: bool = False) -> list[Instance]:
    """Terminate fleet instances (all, the named ones, or those past their TTL); only instances
    carrying this fleet's tag are ever listed, so nothing else can be touched."""
    chosen = select(provider, spec, names)
    if expired_only:
        now = datetime.now(timezone.utc)
        chosen = [i for i in chosen if i.expires and datetime.fromisoformat(i.expires.replace("Z", "+00:00")) <= now]
    if chosen:
        provider.destroy(chosen)
        provider.wait(chosen, "terminated", timeout=SSH_TIMEOUT)
        state = FleetState(spec.fleet)
        for instance in chosen:
            state.forget(instance.name)
    return chosen
