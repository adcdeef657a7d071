"""FTP service checks from the controller: login, upload/download round trip, chroot, anonymous.

They speak FTP (and explicit FTPS) with :mod:`ftplib`, as a client would. Passwords come from the
suite as secrets (``password``) or from an environment variable (``password_env``), and never
appear in results.
"""

from __future__ import annotations

import ftplib
import hashlib
import io
import os
import ssl
import time
import uuid
from typing import ClassVar, Literal

from pydantic import ConfigDict, Field, model_validator

from fleetops.checks.base import Check, Outcome, Target, failed, passed
from fleetops.checks.network import HOSTNAME_PATTERN
from fleetops.secrets import SecretStr


class Ftp(Check):
    """``{kind: ftp, user: ftpuser, password_env: FTP_PASSWORD, upload_dir: upload, chroot: true}``.

    + ``user`` omitted: anonymous login; with ``expect_login: false`` it must be refused
    + ``tls``: explicit FTPS (AUTH TLS), verified against ``ca_file`` unless ``verify: false``
    + ``upload_dir``: store a random file there, read it back, compare sha256, delete it
    + ``chroot``: the session must start at ``/`` and ``/etc`` must not be reachable
    The value is the time for the whole session in ms.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    kind: Literal["ftp"]
    user: str | None = Field(None, pattern=r"^[a-z_][a-z0-9_-]*$")
    password: SecretStr | None = None
    password_env: str | None = Field(None, pattern=r"^[A-Z_][A-Z0-9_]*$")
    address: str | None = Field(None, pattern=HOSTNAME_PATTERN)
    port: int = Field(21, ge=1, le=65535)
    tls: bool = False
    verify: bool = True
    ca_file: str | None = None
    expect_login: bool = True
    upload_dir: str | None = Field(None, pattern=r"^[A-Za-z0-9._/-]+$")
    chroot: bool = False
    timeout: float = Field(10.0, gt=0, le=120)
    unit: ClassVar[str] = "ms"
    where: ClassVar[str] = "controller"

    @model_validator(mode="after")
    def _login(self) -> "Ftp":
        if self.user and self.expect_login and not (self.password or self.password_env):
            raise ValueError(f"ftp check for {self.user}: give password or password_env")
        if not self.expect_login and (self.upload_dir or self.chroot):
            raise ValueError("upload_dir and chroot need a login that succeeds")
        return self

    def default_name(self) -> str:
        who = self.user or "anonymous"
        return f"ftp{'s' if self.tls else ''}:{who}"

    def _password(self) -> str:
        if self.password is not None:
            return self.password.reveal()
        if self.password_env:
            value = os.environ.get(self.password_env)
            if not value:
                raise LookupError(f"environment variable {self.password_env} is not set")
            return value
        return "anonymous@"

    def collect(self, target: Target, timeout: float) -> dict:
        address = self.address or target.address
        limit = min(self.timeout, timeout)
        started = time.perf_counter()
        raw: dict = {"address": address}
        try:
            password = self._password()
        except LookupError as error:
            return {"unknown": str(error)}
        if self.tls:
            context = ssl.create_default_context(cafile=self.ca_file)
            if not self.verify:
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
            client: ftplib.FTP = ftplib.FTP_TLS(context=context, timeout=limit)
        else:
            client = ftplib.FTP(timeout=limit)
        try:
            client.connect(address, self.port)
            try:
                client.login(self.user or "anonymous", password)
            except ftplib.error_perm as error:
                raw["login"] = False
                raw["reply"] = str(error)
                return raw
            raw["login"] = True
            if self.tls:
                client.prot_p()  # type: ignore[attr-defined]  # FTP_TLS when tls is set
            if self.chroot:
                raw["pwd"] = client.pwd()
                try:
                    client.cwd("/etc")
                    raw["escaped"] = f"cwd /etc succeeded (now {client.pwd()})"
                except ftplib.error_perm:
                    raw["escaped"] = None
                client.cwd(raw["pwd"])
            if self.upload_dir:
                raw["round_trip"] = self._round_trip(client)
            client.quit()
        except (OSError, EOFError, ftplib.Error, ssl.SSLError) as error:
            raw["error"] = f"FTP {address}:{self.port}: {error}"
        finally:
            client.close()
        raw["ms"] = (time.perf_counter() - started) * 1000
        return raw

    def _round_trip(self, client: ftplib.FTP) -> str | None:
        """Store, fetch and delete a random file; None when the bytes came back intact."""
        payload = os.urandom(64 * 1024)
        path = f"{(self.upload_dir or '').rstrip('/')}/fleetops-check-{uuid.uuid4().hex}.bin"
        try:
            client.storbinary(f"STOR {path}", io.BytesIO(payload))
        except ftplib.error_perm as error:
            return f"upload to {path} refused: {error}"
        received = io.BytesIO()
        try:
            client.retrbinary(f"RETR {path}", received.write)
        finally:
            try:
                client.delete(path)
            except ftplib.error_perm:
                pass
        if hashlib.sha256(received.getvalue()).digest() != hashlib.sha256(payload).digest():
            return f"download of {path} differs from the upload ({len(received.getvalue())} bytes)"
        return None

    def judge(self, raw: dict) -> Outcome:
        from fleetops.checks.result import Status

        if raw.get("unknown"):
            return Outcome(Status.UNKNOWN, raw["unknown"])
        if raw.get("error"):
            return failed(raw["error"])
        who = self.user or "anonymous"
        if raw["login"] != self.expect_login:
            if raw["login"]:
                return failed(f"{who} login accepted; expected it to be refused", value=True)
            return failed(f"{who} login refused: {raw.get('reply', '')}", value=False)
        if not self.expect_login:
            return passed(f"{who} login refused as expected ({raw.get('reply', '')})", False)
        if self.chroot and (raw.get("pwd") != "/" or raw.get("escaped")):
            return failed(
                f"{who} is not confined: start directory {raw.get('pwd')!r}"
                + (f", {raw['escaped']}" if raw.get("escaped") else ""),
                value=raw["ms"],
            )
        if self.upload_dir and raw.get("round_trip"):
            return failed(raw["round_trip"], value=raw["ms"])
        done = ["login"] + (["chroot"] if self.chroot else []) + (["upload/download"] if self.upload_dir else [])
        return self.measured(raw["ms"], f"{who}: {', '.join(done)} ok in", "{:.0f}")
