"""The fleet's keys: its SSH key pair, an RSA key for Windows password data, and per-instance host keys.

Host keys are generated here, before the instance exists, and handed to it in its user data
(cloud-init ``ssh_keys``), so the controller knows each host key from creation: strict host-key
checking holds from the first connection, nothing is trusted on first use. Every private key is
written 0600 inside the fleet's 0700 directory and registered for redaction.
"""

from __future__ import annotations

import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

from fleetops.cloud.errors import CloudError
from fleetops.cloud.provider import FleetKeys
from fleetops.cloud.state import FleetState
from fleetops.fileutil import atomic_write_bytes
from fleetops.secrets import register

OPENSSH = serialization.PrivateFormat.OpenSSH
PKCS8 = serialization.PrivateFormat.PKCS8
PEM = serialization.Encoding.PEM


def _openssh_public(key) -> str:
    return key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()


def _load_or_make(path, make, fmt):
    """The private key at ``path``, generated (0600, atomically) when absent."""
    if not path.exists():
        atomic_write_bytes(path, make().private_bytes(PEM, fmt, serialization.NoEncryption()))
    data = path.read_bytes()
    register(data.decode().strip())
    if fmt is PKCS8:
        return serialization.load_pem_private_key(data, None)
    return serialization.load_ssh_private_key(data, None)


def fleet_keys(state: FleetState, windows: bool) -> FleetKeys:
    """The fleet's SSH key (ed25519) and, when it has Windows instances, its RSA key."""
    key = _load_or_make(state.key_file, ed25519.Ed25519PrivateKey.generate, OPENSSH)
    keys = FleetKeys(public_key=f"{_openssh_public(key)} fleetops-{state.fleet}", private_key_file=state.key_file)
    if windows:
        rsa_key = _load_or_make(
            state.rsa_key_file, lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048), PKCS8
        )
        keys.rsa_public_key = f"{_openssh_public(rsa_key)} fleetops-{state.fleet}-rsa"
        keys.rsa_private_key_file = state.rsa_key_file
    return keys


def host_key(state: FleetState, name: str) -> tuple[str, str]:
    """(private key in OpenSSH PEM, public key line) of an instance; made once, then reused, so a
    retried create hands the instance the same key the controller pins."""
    path = state.host_key_file(name)
    key = _load_or_make(path, ed25519.Ed25519PrivateKey.generate, OPENSSH)
    return path.read_text(), _openssh_public(key)


def linux_user_data(private_host_key: str, public_host_key: str, ssh_user: str, authorized_key: str) -> str:
    """cloud-config that installs the pinned host key (and no other) and the fleet's login key."""
    config: dict = {
        "ssh_deletekeys": True,
        "ssh_genkeytypes": [],
        "ssh_keys": {"ed25519_private": private_host_key, "ed25519_public": public_host_key},
    }
    if ssh_user == "root":
        config.update(disable_root=False, ssh_authorized_keys=[authorized_key])
    else:
        config["users"] = [
            {"name": ssh_user, "sudo": "ALL=(ALL) NOPASSWD:ALL", "ssh_authorized_keys": [authorized_key]}
        ]
    return "#cloud-config\n" + yaml.safe_dump(config, sort_keys=True)


def decrypt_password_data(data: bytes, rsa_private_key_file) -> str:
    """AWS GetPasswordData: the password RSA-encrypted (PKCS#1 v1.5) with the key pair's public key."""
    key = serialization.load_pem_private_key(rsa_private_key_file.read_bytes(), None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise CloudError("the fleet's Windows key is not an RSA key")
    try:
        return key.decrypt(data, padding.PKCS1v15()).decode()
    except ValueError:
        raise CloudError("the password data does not decrypt with the fleet's RSA key") from None


def known_hosts_line(address: str, public_host_key: str) -> str:
    return f"{address} {' '.join(public_host_key.split()[:2])}\n"
