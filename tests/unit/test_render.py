"""Templates render strictly from the repository."""

import pytest

from fleetops.errors import InputError
from fleetops.render import render
from fleetops.roles.spec import SshdSpec, SudoRule


def test_sshd_hardening_renders_values():
    text = render("sshd/hardening.conf.j2", sshd=SshdSpec(allow_groups=["ops"]))
    assert "PermitRootLogin prohibit-password" in text
    assert "PasswordAuthentication no" in text
    assert "AllowGroups ops" in text


def test_sudo_rule_renders():
    rule = SudoRule(name="ops", who="%ops", nopasswd=True)
    assert render("sudo/rule.j2", rule=rule).splitlines()[-1] == "%ops ALL=(ALL) NOPASSWD: ALL"


def test_missing_value_is_an_error_not_an_empty_string():
    with pytest.raises(InputError, match="template sudo/rule.j2: 'rule' is undefined"):
        render("sudo/rule.j2")


def test_unknown_template():
    with pytest.raises(InputError, match="template not found"):
        render("nope.j2")
