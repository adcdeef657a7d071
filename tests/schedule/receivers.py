"""Real receivers for notifications: an HTTP server that checks a bearer token and an SMTP
server (aiosmtpd) that requires STARTTLS and a login. Both record what they got."""

from __future__ import annotations

import datetime
import ipaddress
import json
import socket
import ssl
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass
class HttpReceiver:
    """POSTs to any path; 401 without the token; ``fail_first`` answers 500 that many times."""

    address: str = "127.0.0.1"
    token: str = "hook-token-123"
    fail_first: int = 0
    received: list[dict] = field(default_factory=list)
    attempts: int = 0

    def __enter__(self) -> "HttpReceiver":
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                receiver.attempts += 1
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.headers.get("Authorization") != f"Bearer {receiver.token}":
                    self.send_response(401)
                elif receiver.fail_first > 0:
                    receiver.fail_first -= 1
                    self.send_response(500)
                else:
                    receiver.received.append(json.loads(body))
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *_args) -> None:
                pass

        self.server = ThreadingHTTPServer((self.address, 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    @property
    def url(self) -> str:
        return f"http://{self.address}:{self.server.server_address[1]}/hook"

    def __exit__(self, *_exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def self_signed(directory: Path, address: str) -> tuple[Path, Path]:
    """A certificate for ``address`` (its own CA) and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fleetops test smtp")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(address))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    cert_path, key_path = directory / "smtp.pem", directory / "smtp.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


class _Mailbox:
    def __init__(self) -> None:
        self.messages: list[dict] = []

    async def handle_DATA(self, _server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.messages.append(
            {"from": envelope.mail_from, "to": envelope.rcpt_tos, "data": envelope.content.decode(errors="replace"),
             "tls": session.ssl is not None, "login": getattr(session, "login_data", None) and session.login_data.login}
        )  # fmt: skip
        return "250 OK"


class SmtpReceiver:
    """aiosmtpd on ``address``: STARTTLS required, then AUTH LOGIN/PLAIN with ``user``/``password``."""

    def __init__(
        self, directory: Path, address: str = "127.0.0.1", user: str = "fleetops", password: str = "mail-pass-456"
    ):
        self.address, self.user, self.password = address, user, password
        self.cert, key = self_signed(directory, address)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, key)
        self.mailbox = _Mailbox()

        def authenticate(_server, _session, _envelope, mechanism, auth_data):
            ok = (
                isinstance(auth_data, LoginPassword)
                and auth_data.login.decode() == user
                and auth_data.password.decode() == password
            )
            return AuthResult(success=ok, handled=False)

        with socket.socket() as probe:
            probe.bind((address, 0))
            self.port = probe.getsockname()[1]
        self.controller = Controller(
            self.mailbox, hostname=address, port=self.port, tls_context=context, require_starttls=True,
            authenticator=authenticate, auth_require_tls=True, auth_required=True,
        )  # fmt: skip

    def __enter__(self) -> "SmtpReceiver":
        self.controller.start()
        return self

    @property
    def messages(self) -> list[dict]:
        return self.mailbox.messages

    def __exit__(self, *_exc) -> None:
        self.controller.stop()
