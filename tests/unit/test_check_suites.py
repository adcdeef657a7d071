"""Suites and per-host planning: validation before anything runs, selectors, overrides."""

import pytest

from fleetops.checks.suite import available_suites, load_suite, parse_suite, plan_host
from fleetops.errors import InputError


def suite(*checks):
    return parse_suite({"checks": list(checks)}, "test.yml")


def test_bundled_suites_load():
    assert {"default", "baseline"} <= set(available_suites())
    for name in available_suites():
        assert load_suite(name).checks


def test_unknown_kind_names_the_near_miss():
    with pytest.raises(InputError, match=r"checks\[1\]: unknown kind 'servce' \(did you mean 'service'\?\)"):
        suite({"kind": "disk"}, {"kind": "servce", "unit": "x"})


def test_bad_field_names_file_and_location():
    with pytest.raises(InputError, match=r"suite test.yml: checks\[0\]\.disk\.warn: Input should be a valid number"):
        suite({"kind": "disk", "warn": "lots"})


def test_duplicate_names_rejected():
    with pytest.raises(InputError, match="two checks named 'disk'"):
        suite({"kind": "disk"}, {"kind": "disk", "warn": 50, "crit": 60})


def test_empty_suite_rejected():
    with pytest.raises(InputError, match="checks"):
        parse_suite({"checks": []}, "x.yml")
    with pytest.raises(InputError, match="expected a mapping"):
        parse_suite(["disk"], "x.yml")


def test_missing_suite_lists_choices():
    with pytest.raises(InputError, match="available: .*default"):
        load_suite("nope")
    with pytest.raises(InputError, match="not found"):
        load_suite("/nonexistent/suite.yml")


def test_invalid_yaml(tmp_path):
    path = tmp_path / "bad.yml"
    path.write_text("checks: [\n")
    with pytest.raises(InputError, match="not valid YAML"):
        load_suite(str(path))


def test_plan_selects_by_group_and_host_and_adds_reachable():
    declared = suite(
        {"kind": "disk"},
        {"kind": "service", "unit": "nginx", "groups": ["web"]},
        {"kind": "service", "unit": "mariadb", "hosts": ["db1"]},
    )
    web = plan_host(declared, "web1", {"all", "web"}, {})
    assert [c.name for c in web.checks] == ["reachable", "disk", "service:nginx"]
    db = plan_host(declared, "db1", {"all", "db"}, {})
    assert [c.name for c in db.checks] == ["reachable", "disk", "service:mariadb"]


def test_group_data_adds_checks_and_overrides_thresholds():
    declared = suite({"kind": "disk"}, {"kind": "load"})
    data = {
        "checks": [{"kind": "port", "port": 80}],
        "check_overrides": {"disk": {"warn": 60, "crit": 70}, "load": {"disabled": True}},
    }
    planned = {c.name: c for c in plan_host(declared, "h", {"all"}, data).checks}
    assert set(planned) == {"reachable", "disk", "port:80"}
    assert (planned["disk"].warn, planned["disk"].crit) == (60, 70)


def test_override_errors_are_clear():
    declared = suite({"kind": "disk"})
    with pytest.raises(InputError, match="no check named 'dsk' \\(did you mean 'disk'\\?\\)"):
        plan_host(declared, "h", {"all"}, {"check_overrides": {"dsk": {"warn": 1}}})
    with pytest.raises(InputError, match="check_overrides.disk: .*crit"):
        plan_host(declared, "h", {"all"}, {"check_overrides": {"disk": {"warn": 95, "crit": 90}}})
    with pytest.raises(InputError, match="did you mean 'check_overrides'"):
        plan_host(declared, "h", {"all"}, {"check_overides": {}})
    with pytest.raises(InputError, match="host h: checks"):
        plan_host(declared, "h", {"all"}, {"checks": [{"kind": "port"}]})


def test_include_flattens_and_later_checks_replace_included_ones(tmp_path):
    (tmp_path / "base.yml").write_text("checks:\n  - {kind: disk}\n  - {kind: load}\n")
    (tmp_path / "top.yml").write_text(
        f"include: [{tmp_path / 'base.yml'}]\nchecks:\n  - {{kind: disk, warn: 50, crit: 60}}\n"
    )
    loaded = load_suite(str(tmp_path / "top.yml"))
    assert [c.name for c in loaded.checks] == ["disk", "load"]
    assert loaded.checks[0].warn == 50 and loaded.name == "top"
    (tmp_path / "loop.yml").write_text(f"include: [{tmp_path / 'loop.yml'}]\n")
    with pytest.raises(InputError, match="includes itself"):
        load_suite(str(tmp_path / "loop.yml"))
    assert {"web", "ftp", "baseline", "default"} <= set(available_suites())
    assert len(load_suite("lab").checks) > 30


def test_group_data_check_replaces_the_suite_check_of_the_same_name():
    declared = suite({"kind": "service", "unit": "nginx"})
    data = {"checks": [{"kind": "service", "unit": "nginx", "enabled": None}]}
    planned = {c.name: c for c in plan_host(declared, "h", {"all"}, data).checks}
    assert planned["service:nginx"].enabled is None


def test_ftp_check_declarations():
    with pytest.raises(InputError, match="give password or password_env"):
        suite({"kind": "ftp", "user": "ftpuser"})
    with pytest.raises(InputError, match="need a login that succeeds"):
        suite({"kind": "ftp", "expect_login": False, "upload_dir": "upload"})
    declared = suite({"kind": "ftp", "user": "ftpuser", "password": "canary-ftp-pw", "tls": True})
    assert declared.checks[0].name == "ftps:ftpuser"
    assert "canary-ftp-pw" not in repr(declared.checks[0])
