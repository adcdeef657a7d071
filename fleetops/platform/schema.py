"""The platform receiver's MySQL schema, and the admin password hashing both sides agree on.

Shared by the platform role (which creates the tables and reference data as root) and the app
(which checks the schema version on ``/ready`` and verifies admin logins). Standard library only:
it ships in the offline bundle next to ``app.py``.
"""

from __future__ import annotations

import hashlib
import hmac

SCHEMA_VERSION = "1"

TABLES = (
    """CREATE TABLE IF NOT EXISTS meta (
        k VARCHAR(64) NOT NULL PRIMARY KEY,
        v VARCHAR(255) NOT NULL
    ) ENGINE=InnoDB""",
    """CREATE TABLE IF NOT EXISTS gateways (
        name VARCHAR(64) NOT NULL PRIMARY KEY,
        site VARCHAR(64) NOT NULL DEFAULT '',
        registered_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
        last_heartbeat DATETIME(6) NULL,
        model VARCHAR(64) NULL,
        model_version VARCHAR(64) NULL,
        ready TINYINT(1) NULL,
        reason VARCHAR(300) NULL
    ) ENGINE=InnoDB""",
    """CREATE TABLE IF NOT EXISTS heartbeats (
        id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
        gateway VARCHAR(64) NOT NULL,
        received_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
        sent_at DATETIME(6) NULL,
        model VARCHAR(64) NULL,
        model_version VARCHAR(64) NULL,
        ready TINYINT(1) NOT NULL,
        uptime_s DOUBLE NULL,
        inferences BIGINT NULL,
        INDEX by_gateway (gateway, received_at),
        CONSTRAINT heartbeat_gateway FOREIGN KEY (gateway) REFERENCES gateways (name) ON DELETE CASCADE
    ) ENGINE=InnoDB""",
    """CREATE TABLE IF NOT EXISTS event_labels (
        label VARCHAR(64) NOT NULL PRIMARY KEY,
        severity ENUM('info', 'warning', 'critical') NOT NULL,
        description VARCHAR(255) NOT NULL DEFAULT ''
    ) ENGINE=InnoDB""",
    """CREATE TABLE IF NOT EXISTS events (
        id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
        gateway VARCHAR(64) NOT NULL,
        occurred_at DATETIME(6) NOT NULL,
        received_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
        label VARCHAR(64) NOT NULL,
        confidence DOUBLE NOT NULL,
        frames INT NOT NULL,
        model VARCHAR(64) NULL,
        model_version VARCHAR(64) NULL,
        INDEX by_gateway (gateway, occurred_at),
        CONSTRAINT event_gateway FOREIGN KEY (gateway) REFERENCES gateways (name) ON DELETE CASCADE
    ) ENGINE=InnoDB""",
    """CREATE TABLE IF NOT EXISTS admins (
        name VARCHAR(64) NOT NULL PRIMARY KEY,
        password_hash VARCHAR(255) NOT NULL
    ) ENGINE=InnoDB""",
)

PBKDF2_ROUNDS = 200_000


def password_hash(name: str, password: str) -> str:
    """``pbkdf2_sha256$rounds$salt$hash``; the salt is derived from the password and account, so the
    same declaration always gives the same hash (a converge that changes nothing stays that way)."""
    salt = hmac.new(password.encode(), f"fleetops-platform:{name}".encode(), hashlib.sha256).hexdigest()[:32]
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), PBKDF2_ROUNDS).hex()
    return f"pbkdf2_sha256${PBKDF2_ROUNDS}${salt}${digest}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, rounds, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "pbkdf2_sha256":
        return False
    actual = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), int(rounds)).hex()
    return hmac.compare_digest(actual, digest)
