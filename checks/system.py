"""Host vitals: uptime, load, memory, swap, disk and inode use, clock offset."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from fleetops.checks.base import Check, Outcome, failed, passed
from fleetops.checks.result import Status


class Uptime(Check):
    """Seconds since boot; with thresholds it flags a recent reboot (lower is worse).

    ``{kind: uptime, warn: 600}`` warns when the host booted less than ten minutes ago.
    """

    kind: Literal["uptime"]
    unit: ClassVar[str] = "s"
    higher_is_worse: ClassVar[bool] = False

    def probe(self) -> dict:
        return {"op": "uptime"}

    def judge(self, raw: dict) -> Outcome:
        return self.measured(raw["seconds"], "up", "{:.0f}")


def _limits(value: float, warn: float | None, crit: float | None) -> Status:
    if crit is not None and value >= crit:
        return Status.CRITICAL
    if warn is not None and value >= warn:
        return Status.WARNING
    return Status.OK


def _gib(value: float) -> str:
    return f"{value / 2**30:.2f} GiB"


class Load(Check):
    """1-minute load average per CPU (so one threshold fits hosts of any size) on a machine of its
    own; in a container, the host's *own* CPU pressure instead (PSI ``some avg60`` of its cgroup,
    ``pressure_warn``/``pressure_crit`` in %), because there the load average is the whole
    machine's and one busy neighbour would turn every host yellow. A CPU quota on the host's
    cgroup counts as its number of CPUs. ``source`` forces one reading (``loadavg``/``pressure``)."""

    kind: Literal["load"]
    source: Literal["auto", "loadavg", "pressure"] = "auto"
    pressure_warn: float = Field(25.0, ge=0, le=100)
    pressure_crit: float = Field(60.0, ge=0, le=100)
    default_warn: ClassVar[float | None] = 2.0
    default_crit: ClassVar[float | None] = 4.0

    def probe(self) -> dict:
        return {"op": "load"}

    def judge(self, raw: dict) -> Outcome:
        pressure = raw.get("pressure") or {}
        own = str(pressure.get("source", "")).startswith("/sys/fs/cgroup") and "some" in pressure
        if self.source == "pressure" or (self.source == "auto" and raw.get("container") and own):
            if not own:
                return failed("no CPU pressure of this host's own cgroup to read", Status.UNKNOWN)
            value = pressure["some"]["avg60"]
            where = f"container {raw['container']}" if raw.get("container") else "cgroup"
            quota = f", quota {raw['quota_cpus']:g} CPUs" if raw.get("quota_cpus") else ""
            return Outcome(
                _limits(value, self.pressure_warn, self.pressure_crit),
                f"cpu pressure {value:.1f}% (some avg60; warn {self.pressure_warn:g}, crit {self.pressure_crit:g}) "
                f"from this host's cgroup ({where}{quota}); machine load {raw['load1']:.2f} not judged",
                value,
            )
        cpus = raw["cpus"]
        if raw.get("quota_cpus"):
            cpus = min(cpus, raw["quota_cpus"])
        per_cpu = raw["load1"] / max(1e-9, cpus) if cpus else raw["load1"]
        outcome = self.measured(per_cpu, "load per CPU", "{:.2f}")
        outcome.message += f"; load {raw['load1']:.2f} on {cpus:g} CPUs" + (
            " (cgroup quota)" if raw.get("quota_cpus") else ""
        )
        return outcome


class Pressure(Check):
    """``{kind: pressure, resource: cpu|io|memory, scope: some|full, window: avg10|avg60|avg300}``:
    the share of time tasks stalled waiting for the resource (Linux PSI), in percent. It is read
    from the host's own cgroup when it has one (a container's), else the system-wide figures, and
    the message says which. Unlike the load average, one busy container does not raise the
    neighbours' value."""

    kind: Literal["pressure"]
    resource: Literal["cpu", "io", "memory"] = "cpu"
    scope: Literal["some", "full"] = "some"
    window: Literal["avg10", "avg60", "avg300"] = "avg60"
    unit: ClassVar[str] = "%"
    default_warn: ClassVar[float | None] = 20.0
    default_crit: ClassVar[float | None] = 50.0

    def default_name(self) -> str:
        return f"pressure:{self.resource}"

    def probe(self) -> dict:
        return {"op": "pressure", "args": {"resource": self.resource}}

    def judge(self, raw: dict) -> Outcome:
        if raw.get("error_text"):
            return failed(raw["error_text"], Status.UNKNOWN)
        values = raw.get(self.scope)
        if not values or self.window not in values:
            return failed(f"{raw.get('source')}: no '{self.scope}' line with {self.window}", Status.UNKNOWN)
        source = "this host's cgroup" if raw["source"].startswith("/sys/fs/cgroup") else "system-wide"
        outcome = self.measured(values[self.window], f"{self.resource} pressure ({self.scope} {self.window})")
        outcome.message += f"; {source} ({raw['source']})"
        return outcome


class Memory(Check):
    """Memory in use, in percent. In a container or a memory-limited cgroup: the host's own cgroup
    (usage without reclaimable page cache) against its limit, or against the machine's memory when
    it has none; elsewhere total minus available from /proc/meminfo. The message names the source."""

    kind: Literal["memory"]
    unit: ClassVar[str] = "%"
    default_warn: ClassVar[float | None] = 90.0
    default_crit: ClassVar[float | None] = 95.0

    def probe(self) -> dict:
        return {"op": "meminfo"}

    def judge(self, raw: dict) -> Outcome:
        if not raw["mem_total"]:
            return failed("no memory reported", Status.UNKNOWN)
        group = raw.get("cgroup")
        if group and (raw.get("container") or group.get("limit")):
            limit = group["limit"] if group.get("limit") else raw["mem_total"]
            outcome = self.measured(100.0 * max(0, group["usage"]) / limit, "memory used")
            against = "its limit" if group.get("limit") else "the machine's memory (no limit)"
            outcome.message += (
                f"; this host's cgroup: {_gib(group['usage'])} of {_gib(limit)}, {against} ({group['source']})"
            )
            return outcome
        used = 100.0 * (raw["mem_total"] - raw["mem_available"]) / raw["mem_total"]
        outcome = self.measured(used, "memory used")
        outcome.message += f"; system-wide ({raw.get('source', '/proc/meminfo')})"
        return outcome


class Swap(Check):
    """Swap in use, in percent; a host without swap reports 0. In a container with a swap limit,
    the cgroup's own swap against that limit."""

    kind: Literal["swap"]
    unit: ClassVar[str] = "%"
    default_warn: ClassVar[float | None] = 50.0
    default_crit: ClassVar[float | None] = 80.0

    def probe(self) -> dict:
        return {"op": "meminfo"}

    def judge(self, raw: dict) -> Outcome:
        group = raw.get("cgroup") or {}
        if raw.get("container") and group.get("swap_limit") and group.get("swap_usage") is not None:
            outcome = self.measured(100.0 * group["swap_usage"] / group["swap_limit"], "swap used")
            outcome.message += (
                f"; this host's cgroup: {_gib(group['swap_usage'])} of its {_gib(group['swap_limit'])} limit"
            )
            return outcome
        if not raw["swap_total"]:
            return passed("no swap configured", 0.0)
        used = 100.0 * (raw["swap_total"] - raw["swap_free"]) / raw["swap_total"]
        return self.measured(used, "swap used")


class _FilesystemCheck(Check):
    """Shared by disk and inode checks: every real mount, or the mounts holding ``paths``."""

    paths: list[str] = Field(default_factory=list, description="default: every real filesystem")
    unit: ClassVar[str] = "%"
    default_warn: ClassVar[float | None] = 80.0
    default_crit: ClassVar[float | None] = 90.0
    what: ClassVar[str] = ""

    def probe(self) -> dict:
        return {"op": "filesystems", "args": {"paths": list(self.paths)}}

    def usage(self, filesystem: dict) -> float | None:
        raise NotImplementedError

    def judge(self, raw: dict) -> Outcome:
        filesystems = raw["filesystems"]
        if not filesystems:
            return failed("no filesystems found", Status.UNKNOWN)
        worst: Outcome | None = None
        problems: list[str] = []
        for filesystem in filesystems:
            if "error" in filesystem:
                problems.append(f"{filesystem['path']}: {filesystem['error']}")
                continue
            used = self.usage(filesystem)
            if used is None:
                continue
            outcome = self.measured(used, f"{self.what} {filesystem['path']}")
            if (
                worst is None
                or outcome.status.rank > worst.status.rank
                or (outcome.status == worst.status and used > worst.value)
            ):
                worst = outcome
        if problems:
            return failed("; ".join(problems), Status.UNKNOWN)
        if worst is None:
            return passed(f"no filesystem reports {self.what}")
        return worst


class Disk(_FilesystemCheck):
    """Space used per filesystem, in percent of what is usable (as ``df`` reports it)."""

    kind: Literal["disk"]
    what: ClassVar[str] = "disk"

    def default_name(self) -> str:
        return "disk" if not self.paths else "disk:" + ",".join(self.paths)

    def usage(self, filesystem: dict) -> float | None:
        usable = filesystem["used"] + filesystem["free"]
        return 100.0 * filesystem["used"] / usable if usable else None


class Inodes(_FilesystemCheck):
    """Inodes used per filesystem, in percent (filesystems without inode limits are skipped)."""

    kind: Literal["inodes"]
    what: ClassVar[str] = "inodes"

    def default_name(self) -> str:
        return "inodes" if not self.paths else "inodes:" + ",".join(self.paths)

    def usage(self, filesystem: dict) -> float | None:
        total = filesystem["inodes"]
        if not total:
            return None
        return 100.0 * (total - filesystem["inodes_free"]) / total


class Clock(Check):
    """Clock offset between host and controller, in seconds.

    The host reads its clock first thing; the controller knows the reading happened between
    sending the script and receiving the first line, so the offset is the distance from that
    window (0 when inside it). The bound is honest: network delay never counts as skew.
    """

    kind: Literal["clock"]
    unit: ClassVar[str] = "s"
    default_warn: ClassVar[float | None] = 0.5
    default_crit: ClassVar[float | None] = 2.0

    def probe(self) -> dict:
        return {"op": "clock"}

    def judge(self, raw: dict) -> Outcome:
        remote, sent, received = raw["remote"], raw["sent"], raw["received"]
        offset = max(0.0, sent - remote, remote - received)
        return self.measured(offset, "clock offset", "{:.3f}")
