"""Decrypt Ansible Vault text (format 1.1 and 1.2, AES256) with ``cryptography``.

Written from the documented format: the body is hex(hex(salt) \\n hex(hmac) \\n hex(ciphertext));
PBKDF2-HMAC-SHA256 with 10 000 rounds gives 80 bytes (AES key | HMAC key | CTR IV); the HMAC is
over the ciphertext (encrypt-then-MAC); the plaintext is PKCS7-padded. A wrong password fails the
HMAC: one line, nothing decrypted.
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
from pathlib import Path

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from fleetops.errors import InputError

HEADER = "$ANSIBLE_VAULT;"


def is_vault(text: str) -> bool:
    return text.lstrip().startswith(HEADER)


def decrypt(vaulttext: str, password: bytes, where: str = "vault") -> str:
    """The plaintext of one vault text; InputError for a wrong password or a damaged text."""
    lines = [line.strip() for line in vaulttext.strip().splitlines()]
    header = lines[0].split(";")
    if len(header) < 3 or header[1] not in ("1.1", "1.2") or header[2] != "AES256":
        raise InputError(f"{where}: not an Ansible Vault 1.1/1.2 AES256 text")
    try:
        salt, mac, ciphertext = (
            binascii.unhexlify(part) for part in binascii.unhexlify("".join(lines[1:])).split(b"\n")
        )
    except (ValueError, binascii.Error):
        raise InputError(f"{where}: the vault text is damaged") from None
    keys = hashlib.pbkdf2_hmac("sha256", password, salt, 10000, dklen=80)
    if not hmac.compare_digest(hmac.new(keys[32:64], ciphertext, hashlib.sha256).digest(), mac):
        raise InputError(f"{where}: wrong vault password (or the vault text was changed)")
    decryptor = Cipher(algorithms.AES(keys[:32]), modes.CTR(keys[64:80])).decryptor()
    unpadder = padding.PKCS7(128).unpadder()
    data = unpadder.update(decryptor.update(ciphertext) + decryptor.finalize()) + unpadder.finalize()
    return data.decode("utf-8")


def read_password(path: Path) -> bytes:
    """A vault password file's content (first line, as ansible does); refused when others can read it."""
    try:
        mode = path.stat().st_mode
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"vault password file not found: {path}") from None
    if mode & 0o077:
        raise InputError(f"vault password file {path} is readable by others (mode {oct(mode & 0o777)}); chmod 600 it")
    if mode & 0o111:
        raise InputError(f"vault password file {path} is executable: fleetops does not run password scripts")
    password = data.splitlines()[0].strip() if data.strip() else b""
    if not password:
        raise InputError(f"vault password file {path} is empty")
    return password
