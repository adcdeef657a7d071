"""SSH login from the controller as a given user: ``{kind: login, user: dev417, key: keys/t1}``.

It tests what a person sees: that the account accepts this key or password over the network,
which nothing a root user does on the host itself can fake (unlike reading ``authorized_keys``).
``expect: false`` asserts the login is refused (a locked exam account, a removed key). The host
key is verified against ``known_hosts`` (never trusted on first use). After authenticating, the
check runs ``id -un`` so a login whose shell refuses to run commands counts as refused.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import ClassVar, Literal

import paramiko
from pydantic import ConfigDict, Field, model_validator

from fleetops.checks.accounts import ACCOUNT_PATTERN
from fleetops.checks.base import Check, Outcome, Target, failed, passed
from fleetops.checks.result import Status
from fleetops.secrets import SecretStr


class Login(Check):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    kind: Literal["login"]
    user: str = Field(pattern=ACCOUNT_PATTERN)
    key: str | None = Field(None, description="private key file on the controller")
    password: SecretStr | None = None
    port: int = Field(22, ge=1, le=65535)
    expect: bool = True
    known_hosts: str | None = None
    timeout: float = Field(10.0, gt=0, le=60)
    unit: ClassVar[str] = "ms"
    where: ClassVar[str] = "controller"

    @model_validator(mode="after")
    def _credential(self) -> "Login":
        if not (self.key or self.password):
            raise ValueError(f"login check for {self.user}: give key or password")
        return self

    def default_name(self) -> str:
        return f"login:{self.user}"

    def collect(self, target: Target, timeout: float) -> dict:
        client = paramiko.SSHClient()
        known = Path(self.known_hosts or Path.home() / ".ssh/known_hosts")
        if known.exists():
            client.load_host_keys(str(known))
        client.set_missing_host_key_policy(paramiko.RejectPolicy())
        limit = min(self.timeout, timeout)
        started = time.perf_counter()
        try:
            client.connect(
                target.address,
                port=self.port,
                username=self.user,
                key_filename=self.key,
                password=self.password.reveal() if self.password else None,
                timeout=limit,
                banner_timeout=limit,
                auth_timeout=limit,
                allow_agent=False,
                look_for_keys=False,
            )
        except paramiko.AuthenticationException as error:
            return {"login": False, "reason": f"authentication refused ({type(error).__name__})"}
        except paramiko.BadHostKeyException:
            return {"error": f"host key of {target.address} does not match known_hosts"}
        except paramiko.SSHException as error:
            if "not found in known_hosts" in str(error):
                return {"error": f"host key of {target.address} is not in {known}"}
            return {"login": False, "reason": f"SSH refused: {error}"}
        except OSError as error:
            return {"error": f"cannot connect to {target.address}:{self.port}: {error}"}
        try:
            _in, out, _err = client.exec_command("id -un", timeout=limit)
            name = out.read().decode(errors="replace").strip()
            status = out.channel.recv_exit_status()
        except (paramiko.SSHException, OSError) as error:
            return {"login": False, "reason": f"logged in but could not run a command: {error}"}
        finally:
            client.close()
        if status != 0 or name != self.user:
            return {"login": False, "reason": f"logged in but the shell refused commands (exit {status})"}
        return {"login": True, "ms": (time.perf_counter() - started) * 1000}

    def judge(self, raw: dict) -> Outcome:
        if "error" in raw:
            return Outcome(Status.UNKNOWN, raw["error"])
        how = "key" if self.key else "password"
        if raw["login"]:
            if self.expect:
                return passed(f"ssh {self.user} with {how}: ok", raw.get("ms"))
            return failed(f"ssh {self.user} with {how}: accepted, but should be refused", value=raw.get("ms"))
        if self.expect:
            return failed(f"ssh {self.user} with {how}: {raw['reason']}")
        return passed(f"ssh {self.user} with {how}: refused as expected ({raw['reason']})")
