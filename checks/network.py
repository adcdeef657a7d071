"""Reachability and network services: SSH, TCP connect, HTTP(S), TLS certificates, DNS.

``tcp``, ``http`` and ``tls`` run on the controller (they test what clients see); ``dns`` runs on
the host (it tests the host's resolver). ``reachable`` is added to every host by the engine: it
is the SSH round trip itself, so a dead host shows up as one CRITICAL check, not a crash.
"""

from __future__ import annotations

import re
import socket
import ssl
import time
from datetime import datetime, timezone
from typing import ClassVar, Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator

from fleetops.checks.base import Check, Outcome, Target, compile_pattern, failed
from fleetops.checks.result import Status

HOSTNAME_PATTERN = r"^[A-Za-z0-9_.:\[\]-]+$"


class Reachable(Check):
    """The host answers over SSH and runs the probe script; the value is the round trip in ms."""

    kind: Literal["reachable"]
    unit: ClassVar[str] = "ms"
    where: ClassVar[str] = "engine"

    def judge(self, raw: dict) -> Outcome:
        if raw.get("error"):
            return failed(raw["error"])
        return self.measured(raw["ms"], "ssh round trip", "{:.0f}")


class TcpConnect(Check):
    """A TCP connection from the controller to ``address:port`` succeeds (ms to connect)."""

    kind: Literal["tcp"]
    port: int = Field(ge=1, le=65535)
    address: str | None = Field(None, pattern=HOSTNAME_PATTERN, description="default: the host's SSH address")
    timeout: float = Field(3.0, gt=0, le=60)
    unit: ClassVar[str] = "ms"
    where: ClassVar[str] = "controller"

    def default_name(self) -> str:
        return f"tcp:{self.port}"

    def collect(self, target: Target, timeout: float) -> dict:
        address = self.address or target.address
        started = time.perf_counter()
        try:
            with socket.create_connection((address, self.port), timeout=min(self.timeout, timeout)):
                return {"ms": (time.perf_counter() - started) * 1000, "address": address}
        except OSError as error:
            return {"error": f"connect {address}:{self.port}: {error.strerror or error}"}

    def judge(self, raw: dict) -> Outcome:
        if raw.get("error"):
            return failed(raw["error"])
        return self.measured(raw["ms"], f"connected to {raw['address']}:{self.port} in", "{:.0f}")


class Http(Check):
    """An HTTP(S) request from the controller returns the expected status and body in time.

    ``url`` may contain ``{address}`` (the host's SSH address) and ``{host}`` (its inventory
    name). ``warn``/``crit`` are latency limits in ms. HTTPS certificates are verified unless
    ``verify: false``; ``ca_file`` adds a private CA (e.g. the lab's self-signed one).
    """

    kind: Literal["http"]
    url: str
    method: Literal["GET", "HEAD"] = "GET"
    status: int | list[int] = 200
    body: str | None = Field(None, description="regular expression the body must match")
    host_header: str | None = None
    verify: bool = True
    ca_file: str | None = None
    timeout: float = Field(5.0, gt=0, le=120)
    unit: ClassVar[str] = "ms"
    where: ClassVar[str] = "controller"
    default_warn: ClassVar[float | None] = 1000.0
    default_crit: ClassVar[float | None] = 5000.0

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        parts = urlsplit(value.replace("{address}", "x").replace("{host}", "x"))
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"not an http(s) URL: {value!r}")
        return value

    @field_validator("body")
    @classmethod
    def _body(cls, value: str | None) -> str | None:
        return compile_pattern(value, "body") if value else value

    def default_name(self) -> str:
        return f"http:{self.url}"

    def collect(self, target: Target, timeout: float) -> dict:
        import http.client

        url = self.url.format(address=target.address, host=target.name)
        parts = urlsplit(url)
        limit = min(self.timeout, timeout)
        started = time.perf_counter()
        try:
            if parts.scheme == "https":
                context = ssl.create_default_context(cafile=self.ca_file)
                if not self.verify:
                    context.check_hostname = False
                    context.verify_mode = ssl.CERT_NONE
                conn: http.client.HTTPConnection = http.client.HTTPSConnection(
                    parts.hostname or "", parts.port or 443, timeout=limit, context=context
                )
            else:
                conn = http.client.HTTPConnection(parts.hostname or "", parts.port or 80, timeout=limit)
            path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            headers = {"Host": self.host_header} if self.host_header else {}
            conn.request(self.method, path, headers=headers)
            response = conn.getresponse()
            body = response.read(1024 * 1024).decode(errors="replace")
            conn.close()
        except (OSError, http.client.HTTPException) as error:
            return {"error": f"{self.method} {url}: {getattr(error, 'reason', None) or error}"}
        return {"url": url, "status": response.status, "body": body, "ms": (time.perf_counter() - started) * 1000}

    def judge(self, raw: dict) -> Outcome:
        if raw.get("error"):
            return failed(raw["error"])
        wanted = self.status if isinstance(self.status, list) else [self.status]
        if raw["status"] not in wanted:
            return failed(
                f"{raw['url']} returned {raw['status']}, expected {' or '.join(map(str, wanted))}", value=raw["ms"]
            )
        if self.body and not re.search(self.body, raw["body"]):
            return failed(f"{raw['url']} body does not match {self.body!r}", value=raw["ms"])
        outcome = self.measured(raw["ms"], f"{raw['url']} {raw['status']} in", "{:.0f}")
        return outcome


class Tls(Check):
    """The TLS certificate at ``address:port`` is valid for ``server_name`` and not near expiry.

    The value is days until expiry (lower is worse): ``warn: 21, crit: 7`` by default. With
    ``verify: false`` (self-signed lab certificates) the chain is not checked, but the name and
    the validity dates still are, from the certificate itself.
    """

    kind: Literal["tls"]
    port: int = Field(443, ge=1, le=65535)
    address: str | None = Field(None, pattern=HOSTNAME_PATTERN)
    server_name: str | None = Field(
        None, pattern=HOSTNAME_PATTERN, description="name the certificate must match (default: address)"
    )
    ca_file: str | None = None
    verify: bool = True
    timeout: float = Field(5.0, gt=0, le=60)
    unit: ClassVar[str] = "d"
    where: ClassVar[str] = "controller"
    higher_is_worse: ClassVar[bool] = False
    default_warn: ClassVar[float | None] = 21.0
    default_crit: ClassVar[float | None] = 7.0

    def default_name(self) -> str:
        return f"tls:{self.server_name or self.port}"

    def collect(self, target: Target, timeout: float) -> dict:
        address = self.address or target.address
        name = self.server_name or address
        context = ssl.create_default_context(cafile=self.ca_file)
        if not self.verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        try:
            with socket.create_connection((address, self.port), timeout=min(self.timeout, timeout)) as sock:
                with context.wrap_socket(sock, server_hostname=name) as tls:
                    der = tls.getpeercert(binary_form=True)
        except ssl.SSLCertVerificationError as error:
            return {"error": f"certificate of {address}:{self.port} not valid for {name}: {error.verify_message}"}
        except (OSError, ssl.SSLError) as error:
            return {"error": f"TLS to {address}:{self.port}: {error}"}
        if der is None:
            return {"error": f"TLS to {address}:{self.port}: the server sent no certificate"}
        return {"name": name, **certificate_facts(der, name)}

    def judge(self, raw: dict) -> Outcome:
        if raw.get("error"):
            return failed(raw["error"])
        if not raw["name_matches"]:
            return failed(
                f"certificate names {', '.join(raw['names']) or '(none)'} do not include {raw['name']}",
                value=raw["days"],
            )
        if raw["days"] < 0:
            return failed(f"certificate for {raw['name']} expired {-raw['days']:.1f} days ago", value=raw["days"])
        return self.measured(raw["days"], f"certificate for {raw['name']} expires in", "{:.1f}")


def certificate_facts(der: bytes, name: str) -> dict:
    """Names, expiry and whether ``name`` matches, read from a DER certificate."""
    import ipaddress

    from cryptography import x509

    cert = x509.load_der_x509_certificate(der)
    names: list[str] = []
    try:
        alt = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names = [*alt.get_values_for_type(x509.DNSName), *(str(ip) for ip in alt.get_values_for_type(x509.IPAddress))]
    except x509.ExtensionNotFound:
        names = [str(attr.value) for attr in cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)]
    try:
        wanted_ip = str(ipaddress.ip_address(name))
    except ValueError:
        wanted_ip = None

    def matches(pattern: str) -> bool:
        if wanted_ip is not None:
            return pattern == wanted_ip
        if pattern.startswith("*."):
            return name.count(".") == pattern.count(".") and name.lower().endswith(pattern[1:].lower())
        return pattern.lower() == name.lower()

    expires = cert.not_valid_after_utc
    return {
        "names": names,
        "name_matches": any(matches(pattern) for pattern in names),
        "not_after": expires.isoformat(),
        "days": (expires - datetime.now(timezone.utc)).total_seconds() / 86400,
    }


class Upstream(Check):
    """A TCP connection from the host itself to ``address:port`` succeeds (e.g. a proxy upstream)."""

    kind: Literal["upstream"]
    address: str = Field(pattern=HOSTNAME_PATTERN)
    port: int = Field(ge=1, le=65535)
    timeout: float = Field(3.0, gt=0, le=60)
    unit: ClassVar[str] = "ms"

    def default_name(self) -> str:
        return f"upstream:{self.address}:{self.port}"

    def probe(self) -> dict:
        return {"op": "connect", "args": {"address": self.address, "port": self.port, "timeout": self.timeout}}

    def judge(self, raw: dict) -> Outcome:
        if not raw["connected"]:
            return failed(f"{self.address}:{self.port} unreachable from the host: {raw['error_text']}")
        return self.measured(raw["seconds"] * 1000, f"{self.address}:{self.port} reachable in", "{:.0f}")


class Dns(Check):
    """A name resolves on the host (its own resolver), optionally to the expected addresses."""

    kind: Literal["dns"]
    query: str = Field(pattern=HOSTNAME_PATTERN)
    addresses: list[str] = Field(default_factory=list, description="each must be in the answer")
    unit: ClassVar[str] = "ms"

    def default_name(self) -> str:
        return f"dns:{self.query}"

    def probe(self) -> dict:
        return {"op": "dns", "args": {"name": self.query}}

    def judge(self, raw: dict) -> Outcome:
        if not raw["resolved"]:
            return failed(f"{self.query} does not resolve: {raw['error_text']}")
        missing = [address for address in self.addresses if address not in raw["addresses"]]
        if missing:
            return failed(
                f"{self.query} resolves to {', '.join(raw['addresses'])}; missing {', '.join(missing)}",
                value=raw["seconds"] * 1000,
            )
        outcome = self.measured(raw["seconds"] * 1000, f"{self.query} -> {', '.join(raw['addresses'])} in", "{:.0f}")
        return outcome


__all__ = ["Reachable", "TcpConnect", "Http", "Tls", "Upstream", "Dns", "Status"]
