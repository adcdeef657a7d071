"""Every check kind, and the validated union used to read suites and group data."""

from __future__ import annotations

from typing import Annotated, Union

from pydantic import Field, TypeAdapter

from fleetops.checks.accounts import Group, User
from fleetops.checks.command import Command
from fleetops.checks.config import Config
from fleetops.checks.database import Backup, Mysql
from fleetops.checks.edge import Device, Heartbeat, Inference, PlatformApi
from fleetops.checks.files import File
from fleetops.checks.firmware import Firmware
from fleetops.checks.ftp import Ftp
from fleetops.checks.login import Login
from fleetops.checks.models import Onnx
from fleetops.checks.netperf import Ping, Throughput
from fleetops.checks.network import Dns, Http, Reachable, TcpConnect, Tls, Upstream
from fleetops.checks.packages import Package
from fleetops.checks.privileges import Sudo
from fleetops.checks.report import ReportMatches
from fleetops.checks.sql import Sql
from fleetops.checks.services import Port, Process, Service
from fleetops.checks.system import Clock, Disk, Inodes, Load, Memory, Pressure, Swap, Uptime
from fleetops.checks.units import Timer, Unit

KINDS = (
    Reachable,
    Uptime,
    Load,
    Pressure,
    Memory,
    Swap,
    Disk,
    Inodes,
    Clock,
    Service,
    Process,
    Port,
    TcpConnect,
    Http,
    Tls,
    Upstream,
    Dns,
    File,
    Package,
    User,
    Group,
    Command,
    Ftp,
    Mysql,
    Backup,
    Inference,
    Device,
    PlatformApi,
    Heartbeat,
    Sudo,
    Config,
    Unit,
    Timer,
    Login,
    Onnx,
    Sql,
    ReportMatches,
    Ping,
    Throughput,
    Firmware,
)

AnyCheck = Annotated[Union[KINDS], Field(discriminator="kind")]  # type: ignore[valid-type]

CHECK_LIST = TypeAdapter(list[AnyCheck])


def kind_names() -> list[str]:
    return [model.model_fields["kind"].annotation.__args__[0] for model in KINDS]
