"""Facts about OS accounts that pyinfra's own facts do not give."""

from __future__ import annotations

import shlex

from pyinfra.api import FactBase


class ShadowState(FactBase):
    """A user's password and account state from /etc/shadow, without revealing the hash.

    The hash itself never leaves the host (fact output can be logged at high verbosity): only
    its sha256 is returned, to compare with the desired hash.

    Returns ``None`` when the user does not exist, else::

        {"locked": bool, "has_password": bool, "expire_day": int | None, "hash_sha256": str}
    """

    def command(self, user: str) -> str:
        quoted = shlex.quote(user)
        return (
            f"line=$(getent shadow {quoted}) || exit 0; "
            'printf \'%s\\n\' "$line" | awk -F: \'{h=$2; l=(h ~ /^!/) ? 1 : 0; sub(/^!+/, "", h); '
            'p=(h != "" && h != "*") ? 1 : 0; print "state", l, p, ($8 == "" ? "-" : $8)}\'; '
            "printf '%s' \"$line\" | cut -d: -f2 | sed 's/^!*//' | sha256sum | cut -c1-64"
        )

    def process(self, output: list[str]) -> dict | None:
        lines = [line.strip() for line in output if line.strip()]
        if len(lines) < 2 or not lines[0].startswith("state "):
            return None
        _tag, locked, has_password, expire = lines[0].split()
        return {
            "locked": locked == "1",
            "has_password": has_password == "1",
            "expire_day": None if expire == "-" else int(expire),
            "hash_sha256": lines[1],
        }
