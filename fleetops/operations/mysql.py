"""MySQL/MariaDB operations whose statements may carry secrets (passwords).

SQL never travels on a command line: each batch is uploaded over SFTP into a 0600 file in a
0700 directory, fed to ``mysql`` on stdin as root over the unix socket, and removed whatever
happens. Only fleetops builds these statements, from identifiers the spec allow-lists; string
values (passwords) are escaped with :func:`sql_string`.
"""

from __future__ import annotations

import hashlib
import shlex
from pyinfra.api import StringCommand, operation

from fleetops.operations.staging import private_upload
from fleetops.secrets import Secret

PRIVATE_DIR = "/root/.fleetops"


# The first line of every batch: whatever the server's global sql_mode, string literals below
# are read with backslash escapes (which sql_string relies on). It holds no backslash itself,
# so it parses the same in both modes.
RESET_SQL_MODE = (
    "SET SESSION sql_mode = TRIM(BOTH ',' FROM REPLACE(REPLACE(@@SESSION.sql_mode, "
    "'NO_BACKSLASH_ESCAPES', ''), ',,', ','))"
)


def batch_body(statements: list[str]) -> str:
    """The text of one batch: the sql_mode reset, then each statement terminated by ``;``."""
    return "".join(statement.rstrip().rstrip(";") + ";\n" for statement in [RESET_SQL_MODE, *statements])


def sql_string(value: str) -> str:
    """A single-quoted SQL string literal (backslashes and quotes escaped, NUL refused)."""
    if "\x00" in value:
        raise ValueError("SQL strings cannot contain NUL bytes")
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def native_password_hash(password: str) -> str:
    """What MariaDB stores for ``mysql_native_password``: ``*`` + upper hex SHA1(SHA1(pw))."""
    return "*" + hashlib.sha1(hashlib.sha1(password.encode()).digest()).hexdigest().upper()


def auth_digest(password: Secret) -> str:
    """sha256 of the stored hash, as the MysqlAccounts fact reports it (idempotent passwords)."""
    return hashlib.sha256(native_password_hash(password.reveal()).encode()).hexdigest()


@operation()
def mysql_statements(statements: list[str], label: str = "sql"):
    """
    Run SQL statements as root over the unix socket, from a 0600 file (never argv).

    + statements: complete SQL statements (may contain secrets)
    + label: a name for the temporary file (letters, digits, dashes)

    Callers decide whether the statements are needed (from facts); this operation always runs.
    """
    if not statements:
        return
    body = batch_body(statements)
    name = f"{PRIVATE_DIR}/{label}-{hashlib.sha256(body.encode()).hexdigest()[:12]}.sql"
    q_file = shlex.quote(name)
    yield from private_upload(body, name, prepare=f"install -d -m 700 {shlex.quote(PRIVATE_DIR)}")
    yield StringCommand(f"mysql --protocol=socket -u root < {q_file}; rc=$?; rm -f {q_file}; exit $rc")
