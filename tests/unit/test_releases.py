"""The side-by-side listing that release pruning trusts (pure parsing and command building)."""

import pytest

from fleetops.facts.releases import SideBySide


def test_entries_come_newest_first_and_junk_is_skipped():
    fact = SideBySide()
    out = fact.process(["1700000000.5 old", "1800000000.0 new", "garbage", "1750000000 middle one"])
    assert [entry["name"] for entry in out] == ["new", "middle one", "old"]


def test_command_quotes_the_path_and_knows_its_kinds():
    fact = SideBySide()
    assert "'/opt/my app/releases'" in fact.command("/opt/my app/releases")
    assert "-type f" in fact.command("/opt/x", kind="f")
    with pytest.raises(ValueError, match="kind"):
        fact.command("/opt/x", kind="l")
