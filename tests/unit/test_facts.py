"""Facts parse captured output with no network (pyinfra style)."""

import hashlib

from fleetops.facts.users import ShadowState


def digest(value: str) -> str:
    return hashlib.sha256((value + "\n").encode()).hexdigest()


def test_shadow_state_parses_locked_expired_user():
    output = ["state 1 1 0", digest("$6$x$y")]
    assert ShadowState().process(output) == {
        "locked": True,
        "has_password": True,
        "expire_day": 0,
        "hash_sha256": digest("$6$x$y"),
    }


def test_shadow_state_no_password_no_expiry():
    assert ShadowState().process(["state 1 0 -", digest("")]) == {
        "locked": True,
        "has_password": False,
        "expire_day": None,
        "hash_sha256": digest(""),
    }


def test_shadow_state_missing_user():
    assert ShadowState().process([]) is None


def test_shadow_state_command_quotes_the_user_and_hides_the_hash():
    command = ShadowState().command("o'neil")
    assert "'o'\"'\"'neil'" in command
    assert "sha256sum" in command  # only a digest of the hash leaves the host
