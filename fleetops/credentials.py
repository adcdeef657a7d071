"""Credentials fleetops generates on the controller and keeps there, like Ansible's ``password``
lookup: per-gateway receiver tokens and the platform receiver's TLS certificate pair.

They live under ``<state>/credentials/`` (directory 0700, files 0600, written atomically), so a
second converge finds the same values and changes nothing, and both ends of a link (the platform
role storing a token's hash, the edge role installing the token) get the same value in one run
without one host having to read the other. A token is generated once; ``rotate_token: true`` in a
gateway's edge data replaces it, once per fleetops process, whichever role asks first.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import re
import secrets
from pathlib import Path

from fleetops.fileutil import atomic_write_text, private_dir
from fleetops.paths import state_dir
from fleetops.secrets import Secret

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_rotated: set[str] = set()


def credentials_dir() -> Path:
    return private_dir(state_dir() / "credentials")


def _checked(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise ValueError(f"not a host name fleetops keeps credentials for: {name!r}")
    return name


def gateway_token(gateway: str, rotate: bool = False) -> Secret:
    """The receiver token of ``gateway`` (made on first use; replaced when ``rotate``, once per run)."""
    path = private_dir(credentials_dir() / "gateway-tokens") / f"{_checked(gateway)}.token"
    if path.exists() and not (rotate and gateway not in _rotated):
        return Secret(path.read_text().strip())
    token = secrets.token_urlsafe(32)
    atomic_write_text(path, token + "\n")
    _rotated.add(gateway)
    return Secret(token)


def platform_certificate(host: str, names: list[str], days: int = 825) -> tuple[str, Secret]:
    """A self-signed certificate (PEM) for the receiver on ``host`` and its key (a Secret), valid
    for ``names`` (DNS names or IP addresses). Kept; made again only when the names change or it
    expires within 30 days."""
    directory = private_dir(credentials_dir() / f"platform-{_checked(host)}")
    cert_path, key_path, meta_path = directory / "cert.pem", directory / "key.pem", directory / "names.json"
    now = datetime.datetime.now(datetime.timezone.utc)
    if cert_path.exists() and key_path.exists() and meta_path.exists():
        meta = json.loads(meta_path.read_text())
        if meta.get("names") == names and meta.get("not_after", 0) - now.timestamp() > 30 * 86400:
            return cert_path.read_text(), Secret(key_path.read_text())
    cert, key, not_after = _self_signed(names, days, now)
    atomic_write_text(key_path, key)
    atomic_write_text(cert_path, cert)
    atomic_write_text(meta_path, json.dumps({"names": names, "not_after": not_after}))
    return cert, Secret(key)


def _self_signed(names: list[str], days: int, now: datetime.datetime) -> tuple[str, str, float]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
    alternatives: list[x509.GeneralName] = []
    for name in names:
        try:
            alternatives.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            alternatives.append(x509.DNSName(name))
    not_after = now + datetime.timedelta(days=days)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(not_after)
        .add_extension(x509.SubjectAlternativeName(alternatives), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return cert.public_bytes(serialization.Encoding.PEM).decode(), key_pem, not_after.timestamp()


def control_node_key(host: str) -> tuple[Secret, str]:
    """The SSH key a control node (``roles/control.py``) reaches its targets with: (the private key
    in OpenSSH format, a Secret; the ``authorized_keys`` line). Made once, kept here, so the node
    and every target get the same key in one run."""
    return _ssh_keypair(f"control-{_checked(host)}", f"fleetops-control@{host}")


def backup_ship_key(host: str) -> tuple[Secret, str]:
    """The SSH key a host sends its backups to the backup host with (``roles/backup.py``): its own,
    so the store can pin it to a forced command and revoke it alone. Kept here like the control
    node's, so a replacement host converged under the same name can fetch its old backups."""
    return _ssh_keypair(f"backup-ship-{_checked(host)}", f"fleetops-backup@{host}")


def _ssh_keypair(directory_name: str, comment: str) -> tuple[Secret, str]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    directory = private_dir(credentials_dir() / directory_name)
    key_path, public_path = directory / "id_ed25519", directory / "id_ed25519.pub"
    if not (key_path.exists() and public_path.exists()):
        key = Ed25519PrivateKey.generate()
        private = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
        ).decode()
        public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        atomic_write_text(key_path, private)
        atomic_write_text(public_path, f"{public.decode()} {comment}\n")
    return Secret(key_path.read_text()), public_path.read_text().strip()
