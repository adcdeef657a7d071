"""Controller-side collectors (tcp, http, https, tls) against loopback servers started here."""

import datetime
import http.server
import socket
import ssl
import threading

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from fleetops.checks.base import Target
from fleetops.checks.registry import CHECK_LIST
from fleetops.checks.result import Status

LOCAL = Target(name="local", address="127.0.0.1")


def check(**declaration):
    return CHECK_LIST.validate_python([declaration])[0]


def self_signed(tmp_path, name: str, days: int):
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / f"{name}-{days}.pem", tmp_path / f"{name}-{days}.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_file, key_file


class Page(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's naming
        body = b"hello fleetops" if self.path == "/" else b"missing"
        self.send_response(200 if self.path == "/" else 404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server(tmp_path):
    """Start an HTTP or HTTPS server on a free loopback port; yields (port, cert file)."""
    servers = []

    def start(tls_days: int | None = None, name: str = "fleetops.test"):
        httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
        cert = None
        if tls_days is not None:
            cert, key = self_signed(tmp_path, name, tls_days)
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(cert, key)
            httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        servers.append(httpd)
        return httpd.server_address[1], cert

    yield start
    for httpd in servers:
        httpd.shutdown()


def test_tcp_connect_and_refused(server):
    port, _ = server()
    tcp = check(kind="tcp", port=port)
    assert tcp.judge(tcp.collect(LOCAL, 5)).status == Status.OK
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    refused = check(kind="tcp", port=closed)
    outcome = refused.judge(refused.collect(LOCAL, 5))
    assert outcome.status == Status.CRITICAL and "refused" in outcome.message.lower()


def test_http_status_and_body(server):
    port, _ = server()
    good = check(kind="http", url=f"http://{{address}}:{port}/", body="hello")
    assert good.judge(good.collect(LOCAL, 5)).status == Status.OK
    missing = check(kind="http", url=f"http://{{address}}:{port}/nope")
    outcome = missing.judge(missing.collect(LOCAL, 5))
    assert outcome.status == Status.CRITICAL and "returned 404" in outcome.message


def test_https_verifies_against_the_given_ca(server):
    port, cert = server(tls_days=90, name="localhost")
    trusted = check(kind="http", url=f"https://localhost:{port}/", ca_file=str(cert))
    assert trusted.judge(trusted.collect(LOCAL, 5)).status == Status.OK
    untrusted = check(kind="http", url=f"https://localhost:{port}/")
    assert untrusted.judge(untrusted.collect(LOCAL, 5)).status == Status.CRITICAL


def test_tls_expiry_and_name(server):
    port, cert = server(tls_days=10, name="web.lab")
    soon = check(kind="tls", port=port, server_name="web.lab", ca_file=str(cert))
    outcome = soon.judge(soon.collect(LOCAL, 5))
    assert outcome.status == Status.WARNING and 9 < outcome.value <= 10
    wrong = check(kind="tls", port=port, server_name="other.lab", ca_file=str(cert))
    outcome = wrong.judge(wrong.collect(LOCAL, 5))
    assert outcome.status == Status.CRITICAL and "not valid for other.lab" in outcome.message


def test_tls_without_chain_verification_still_checks_name_and_dates(server):
    port, _cert = server(tls_days=60, name="web.lab")
    right = check(kind="tls", port=port, server_name="web.lab", verify=False)
    assert right.judge(right.collect(LOCAL, 5)).status == Status.OK
    wrong = check(kind="tls", port=port, server_name="other.lab", verify=False)
    outcome = wrong.judge(wrong.collect(LOCAL, 5))
    assert outcome.status == Status.CRITICAL and "do not include other.lab" in outcome.message
