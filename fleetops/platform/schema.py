"""The platform receiver's MySQL schema, and the admin password hashing both sides agree on.

Shared by the platform role (which creates the tables and reference data as root) and the app
(which checks the schema version on ``/ready`` and verifies admin logins). Standard library only:
it ships in the offline bundle next to ``app.py``.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets

SCHEMA_VERSION = "2"  # 2: gateways.token_sha256 (per-gateway tokens)

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
        reason VARCHAR(300) NULL,
        token_sha256 CHAR(64) NULL,
        INDEX by_token (token_sha256)
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

# Schema changes for databases made by an older version (each idempotent).
MIGRATIONS = (
    "ALTER TABLE gateways ADD COLUMN IF NOT EXISTS token_sha256 CHAR(64) NULL",
    "ALTER TABLE gateways ADD INDEX IF NOT EXISTS by_token (token_sha256)",
)

# What the app's database account may do, table by table: it writes what gateways report and
# reads reference data, and can never write admins, event labels, tokens' owners or the schema.
APP_PRIVILEGES = {
    "meta": ["SELECT"],
    "gateways": ["SELECT", "UPDATE"],
    "heartbeats": ["INSERT", "SELECT"],
    "events": ["INSERT", "SELECT"],
    "event_labels": ["SELECT"],
    "admins": ["SELECT"],
}

PBKDF2_ROUNDS = 200_000  # pinned here: a stored hash with any other count is refused


def password_hash(password: str, salt: str | None = None) -> str:
    """``pbkdf2_sha256$rounds$salt$hash`` with a random 128-bit salt. A converge keeps a stored
    hash whose password still verifies (see the platform role), so it stays idempotent."""
    salt = salt or secrets.token_hex(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), PBKDF2_ROUNDS).hex()
    return f"pbkdf2_sha256${PBKDF2_ROUNDS}${salt}${digest}"


@functools.cache
def dummy_hash() -> str:
    """Verified against when an admin name is unknown, so a wrong name costs as long as a wrong
    password (made on first use: importing this module stays cheap for the controller)."""
    return password_hash("no admin has this password", salt="0" * 32)


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, rounds, salt, digest = stored.split("$")
    except (ValueError, AttributeError):
        return False
    if scheme != "pbkdf2_sha256" or rounds != str(PBKDF2_ROUNDS) or len(salt) < 16:
        return False  # the row cannot choose a cheaper (or a crushing) round count
    actual = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), PBKDF2_ROUNDS).hex()
    return hmac.compare_digest(actual, digest)
