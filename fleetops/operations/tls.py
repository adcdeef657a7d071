"""TLS certificates for services: generated self-signed on the host, or provided as PEM."""

from __future__ import annotations

import posixpath
import shlex

from pyinfra import host
from pyinfra.api import StringCommand, operation
from pyinfra.api.exceptions import OperationValueError
from pyinfra.facts.files import File


@operation()
def self_signed_certificate(cert: str, key: str, common_name: str, names: list[str] | None = None, days: int = 825):
    """
    Generate a self-signed certificate and key with openssl on the host, once.

    + cert: path of the PEM certificate (0644)
    + key: path of the PEM private key (0600); generated on the host, it never travels
    + common_name: the certificate's CN, also its first subjectAltName
    + names: more DNS names or IP addresses for subjectAltName
    + days: validity

    Existing files are kept (no rotation on every converge); delete them to regenerate.

    **Example:**

    .. code:: python

        self_signed_certificate(name="FTPS certificate", cert="/etc/ssl/certs/vsftpd.pem",
                                key="/etc/ssl/private/vsftpd.key", common_name="ftp1")
    """
    if not (posixpath.isabs(cert) and posixpath.isabs(key)):
        raise OperationValueError("self_signed_certificate needs absolute cert and key paths")
    if host.get_fact(File, path=cert) and host.get_fact(File, path=key):
        host.noop(f"{cert} exists")
        return
    alt = []
    for name in [common_name, *(names or [])]:
        kind = "IP" if name.replace(".", "").isdigit() or ":" in name else "DNS"
        alt.append(f"{kind}:{name}")
    q_cert, q_key = shlex.quote(cert), shlex.quote(key)
    q_cert_tmp, q_key_tmp = shlex.quote(cert + ".fleetops-tmp"), shlex.quote(key + ".fleetops-tmp")
    yield StringCommand(
        f"install -d -m 755 {shlex.quote(posixpath.dirname(cert))} && "
        f"install -d -m 700 {shlex.quote(posixpath.dirname(key))} && "
        f"(umask 077 && openssl req -x509 -newkey rsa:2048 -nodes -days {int(days)} "
        f"-subj {shlex.quote('/CN=' + common_name)} "
        f"-addext {shlex.quote('subjectAltName=' + ','.join(alt))} "
        f"-keyout {q_key_tmp} -out {q_cert_tmp} 2>/dev/null) && "
        f"chmod 644 {q_cert_tmp} && mv -f {q_key_tmp} {q_key} && mv -f {q_cert_tmp} {q_cert}"
    )
