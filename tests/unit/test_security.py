"""Regression tests for the security audit (../shared/docs/security-audit.md), one or more per
finding, named ``test_fN_...`` after the finding they reproduce. Each failed on the audited code
(91da739): it either accepted the attack input or crashed where it now refuses or degrades."""

from __future__ import annotations

import os
import stat

import pytest
from pathlib import Path
from click.testing import CliRunner
from pydantic import ValidationError

from fleetops.errors import InputError
from fleetops.render import render
from fleetops.secrets import MASK, Secret, redact, redact_data

HASH = "$6$fleetopsftpsalt$iSzg/pI.BqlXBj5JuX6vk56UQLJiTTM/EsrnZpov0V45ySA19LoR5CG08romTN5aJbzXX9wrU2RjfStCMSB9L/"
INJECTIONS = ["$(id)", "`id`", "a'b", "a\\b", "a\nb", "a#b", "a b", "a;b", "a{b", "a}b", 'a"b', "../x"]


# ----- F3: lab names become paths; `lab down --name ../x` deleted arbitrary directories ---------
@pytest.mark.parametrize("name", ["../x", "/etc", "..", "a/b", "Lab", "x" * 11, ""])
def test_f3_lab_refuses_names_that_are_not_lab_names(name):
    from fleetops.lab.fleet import Lab

    with pytest.raises(InputError, match="lab name"):
        Lab(name)


@pytest.mark.parametrize("verb", [["down"], ["status"], ["up", "--hosts", "1"], ["ssh", "x"]])
@pytest.mark.parametrize("name", ["../victim", "/tmp/victim"])
def test_f3_lab_verbs_refuse_bad_names_before_touching_anything(tmp_path, monkeypatch, verb, name):
    from fleetops.cli import app

    monkeypatch.setenv("FLEETOPS_STATE_DIR", str(tmp_path / "state"))
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "keep").write_text("x")
    os.chmod(victim, 0o755)
    result = CliRunner().invoke(app, ["lab", *verb, "--name", name.replace("/tmp/", f"{tmp_path}/")])
    assert result.exit_code == 2, result.output
    assert "lab name" in result.stderr
    assert (victim / "keep").exists() and stat.S_IMODE(victim.stat().st_mode) == 0o755


def test_f3_lab_environment_name_is_validated_too(monkeypatch):
    from fleetops.cli.lab import _lab_name

    monkeypatch.setenv("FLEETOPS_LAB", "../../etc")
    with pytest.raises(InputError):
        _lab_name(None)


def test_f3_a_spec_renamed_by_name_is_validated_again():
    from fleetops.lab.spec import generated_spec

    with pytest.raises(ValidationError, match="name"):
        generated_spec(1).with_name("../x")


def test_f3_down_never_removes_a_symlinked_lab_directory(tmp_path, monkeypatch):
    from fleetops.lab import fleet

    monkeypatch.setenv("FLEETOPS_STATE_DIR", str(tmp_path / "state"))
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep").write_text("x")
    (tmp_path / "state" / "labs").mkdir(parents=True)
    (tmp_path / "state" / "labs" / "evil").symlink_to(outside)
    with pytest.raises(InputError, match="not a lab directory"):
        fleet.Lab("evil")._remove_own_directory()
    assert (outside / "keep").exists()


# ----- F5: the backup destination reached bash through tojson ($(...) ran as root) -------------
def _policy(**backup):
    from fleetops.roles.mysql_spec import MysqlData

    return MysqlData.model_validate(
        {"mysql": {"databases": [{"name": "shop"}], "backup": {"password": "backup-pw-1", **backup}}}
    ).mysql.backup


@pytest.mark.parametrize("bad", INJECTIONS + ["relative/path", "/var//x", "/var/x/", "/var/./x"])
def test_f5_backup_destination_is_a_plain_absolute_path(bad):
    with pytest.raises(ValidationError, match="destination"):
        _policy(destination="/var/backups/" + bad if not bad.startswith(("relative", "/")) else bad)


def test_f5_backup_values_never_reach_a_shell(tmp_path, capsys):
    """The destination reaches the backup agent as JSON and every command as an argv list: a
    value that bypassed the spec is a path, never code."""
    from fleetops.backup.agent import mysql

    strange = f"{tmp_path}/$(touch PWNED)'x"
    mysql.list_backups({"destination": strange, "store": None})
    mysql.prune({"destination": strange, "retention": {"keep_last": 1}, "store": None})
    assert not (tmp_path / "PWNED").exists() and not list(tmp_path.iterdir())
    agent = Path(mysql.__file__).parent
    for module in agent.glob("*.py"):
        source = module.read_text()
        assert "shell=True" not in source and "os.system" not in source, module.name


# ----- F6: the backup password was written unescaped into a MySQL option file ------------------
@pytest.mark.parametrize(
    "bad",
    [
        'x"\nuser=root\n[mysqldump]\nresult-file=/tmp/x\n#',
        "back\\slash",
        "new\nline",
        'dq"uote',
        "tab\there",
        "cr\rhere",
    ],
)
def test_f6_option_file_passwords_refuse_what_the_format_cannot_hold(bad):
    with pytest.raises(ValidationError, match="option file"):
        _policy(password=bad)


def test_f6_platform_db_password_has_the_same_rule():
    from fleetops.roles.platform_spec import PlatformData

    with pytest.raises(ValidationError, match="option file"):
        PlatformData.model_validate(
            {"platform": {"db_password": "pa\\ss-word", "admins": [{"name": "admin", "password": "admin-pw-1"}]}}
        )


def test_f6_shell_and_comment_characters_stay_inside_the_quoted_value():
    password = "it's#$(id)`x`;{}"
    text = render("mysql/backup-client.cnf.j2", password=_policy(password=password).password.reveal())
    assert f'password = "{password}"' in text.splitlines()
    assert len([line for line in text.splitlines() if "=" in line]) == 3  # user, password, protocol


# ----- F9: nginx directive/block injection through web.sites[].root -----------------------------
@pytest.mark.parametrize(
    "root",
    [
        "/var/www/lab; location /etc/ { alias /etc/; autoindex on; } set $x /x",
        "/var/www/a b",
        '/var/www/"x"',
        "/var/www/x\n",
        "/var/www/../../etc",
    ],
)
def test_f9_web_root_cannot_carry_directives(root):
    from fleetops.roles.web_spec import WebData

    with pytest.raises(ValidationError, match="root"):
        WebData.model_validate({"web": {"sites": [{"name": "lab", "root": root}]}})


# ----- F10: SQL string escaping depended on sql_mode --------------------------------------------
def test_f10_no_backslash_escapes_is_refused_in_settings():
    from fleetops.roles.mysql_spec import MysqlData

    with pytest.raises(ValidationError, match="NO_BACKSLASH_ESCAPES"):
        MysqlData.model_validate({"mysql": {"settings": {"sql_mode": "NO_BACKSLASH_ESCAPES"}}})


def test_f10_every_batch_resets_the_session_sql_mode_first():
    from fleetops.operations.mysql import batch_body

    body = batch_body(["CREATE USER 'a'@'localhost' IDENTIFIED BY 'x\\'; GRANT ALL'"])
    first = body.splitlines()[0]
    assert first.startswith("SET SESSION sql_mode") and "NO_BACKSLASH_ESCAPES" in first
    assert "\\" not in first  # the reset itself reads the same in either mode


# ----- F15: redaction ran on JSON text --------------------------------------------------------
@pytest.mark.parametrize("value", ['pa"ss\\wörd-1', "tab\there-1", "2026", "true", "null-ish", "ünïcødé-pw"])
def test_f15_run_records_mask_every_secret_whatever_its_characters(value):
    from fleetops.runner.record import HostResult, OperationResult, RunRecord

    Secret(value)
    record = RunRecord(deploy="d.py", inventory="i.py", dry_run=True)
    record.hosts["h"] = HostResult(
        status="changed",
        operations=[
            OperationResult(
                name="op",
                hash="x",
                status="pending",
                changed=True,
                diff=f"+x = {value}\n",
                error=f"failed with {value!r}",
                duration_s=2026.0,  # a number holding a numeric secret's digits broke the JSON-text redaction
            )
        ],
    )
    data = record.to_dict()  # used to raise JSONDecodeError for "2026" / "true"
    text = repr(list(_strings(data)))  # every text of the record; numbers are data, not text
    assert value not in text and repr(value)[1:-1] not in text
    assert data["hosts"]["h"]["operations"][0]["diff"] == f"+x = {MASK}\n"
    assert data["hosts"]["h"]["operations"][0]["duration_s"] == 2026.0  # kept, and the record still built


def _strings(data):
    if isinstance(data, str):
        yield data
    elif isinstance(data, dict):
        for key, item in data.items():
            yield str(key)
            yield from _strings(item)
    elif isinstance(data, list):
        for item in data:
            yield from _strings(item)


def test_f15_secrets_too_short_to_mask_are_refused():
    with pytest.raises(ValueError, match="at least 4"):
        Secret("abc")


def test_f15_quoted_forms_of_a_secret_are_masked():
    Secret("o'neil-pw")
    assert "o'neil" not in redact("IDENTIFIED BY 'o\\'neil-pw'") + redact("echo 'o'\"'\"'neil-pw'")
    assert redact_data({"k": ["o'neil-pw", 5, None]}) == {"k": [MASK, 5, None]}


# ----- F16: controller files were world-readable; temp names were predictable -----------------
def test_f16_outputs_are_private_and_written_through_a_fresh_temp_file(tmp_path):
    from fleetops.fileutil import atomic_write_text

    target = tmp_path / "report.json"
    decoy = tmp_path / "elsewhere"
    (tmp_path / ".report.json.tmp").symlink_to(decoy)  # the old fixed temp name
    atomic_write_text(target, "{}")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert not decoy.exists()


def test_f16_history_and_run_records_are_private(tmp_path, monkeypatch):
    from fleetops.checking import history
    from fleetops.runner import record

    monkeypatch.setenv("FLEETOPS_STATE_DIR", str(tmp_path / "state"))
    history.connect().close()
    assert stat.S_IMODE(history.history_path().stat().st_mode) == 0o600
    assert stat.S_IMODE(history.history_path().parent.stat().st_mode) == 0o700
    path = record.write({"run_id": "r1"}, tmp_path / "state" / "runs")
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700 and stat.S_IMODE(path.stat().st_mode) == 0o600


def test_f16_check_messages_are_redacted():
    from fleetops.checks.base import Outcome
    from fleetops.checks.result import Status
    from fleetops.checks.system import Load

    Secret("canary-in-output-1")
    check = Load.model_validate({"kind": "load"})
    result = check.result("h", Outcome(Status.CRITICAL, "stderr: canary-in-output-1"))
    assert "canary" not in result.message


# ----- F17: one hostile host crashed the sweep; markup in messages ------------------------------
@pytest.mark.parametrize(
    "stdout",
    [
        b"{'clock': 1.0}\n{'results': [1, 2]}\n",
        b"{'clock': 1.0}\n{'results': {'0': 5}}\n",
        b"{'clock': 'x'}\n{'results': {}}\n",
        b"[" * 100000 + b"\n",
        b"{'clock': 1.0}\n{'results': {}, 'cpu_s': 'lots'}\n",
        b"\xff\xfe garbage",
    ],
)
def test_f17_a_probe_answer_of_the_wrong_shape_is_a_probe_error(stdout):
    from fleetops.checking.remote import RoundTrip, _parse

    trip = RoundTrip()
    _parse(trip, stdout, b"", 0)
    assert trip.probe_error and trip.results == {}


def test_f17_a_host_whose_checks_blow_up_does_not_end_the_sweep(monkeypatch):
    from fleetops.checking import engine
    from fleetops.checking.target import SshTarget
    from fleetops.checks.suite import plan_host, load_suite

    suite = load_suite("baseline")
    work = [
        engine.HostWork(plan_host(suite, name, set(), {}), SshTarget(name=name, hostname="127.0.0.1"))
        for name in ("good", "evil")
    ]

    def fake_check_host(item, timeout, peers=None):
        if item.plan.host == "evil":
            raise AttributeError("'list' object has no attribute 'get'")
        return [check.result(item.plan.host, engine.Outcome(engine.Status.OK, "ok")) for check in item.plan.checks]

    monkeypatch.setattr(engine, "check_host", fake_check_host)
    run = engine.sweep(work, suite="baseline", inventory="x")
    statuses = run.host_status()
    assert statuses["good"] == engine.Status.OK and statuses["evil"] == engine.Status.UNKNOWN


@pytest.mark.parametrize("text", ["C:\\[/]", "x\\[link=https://evil.example]click[/link]", "[bold]x[/bold]"])
def test_f17_host_text_is_never_read_as_markup(capsys, text):
    from fleetops.cli.render import print_table

    print_table("t", ["message"], [(text,)])
    out = capsys.readouterr().out
    assert text in out


# ----- F18: validation gaps in the baseline and FTP specs ---------------------------------------
def _users(**user):
    from fleetops.roles.spec import BaselineData

    return BaselineData.model_validate({"users": [{"name": "alice", **user}]})


@pytest.mark.parametrize(
    "user, key",
    [
        ({"authorized_keys": ['ssh-ed25519 AAAA\ncommand="/bin/sh" ssh-rsa AAAAB3Nza attacker']}, "SSH public key"),
        ({"password_hash": HASH + "\n"}, "crypt"),
        ({"home": "/etc"}, "home"),
        ({"home": "/home/../etc"}, "home"),
        ({"name": "root"}, "system account"),
        ({"name": "daemon"}, "system account"),
    ],
)
def test_f18_baseline_refuses_dangerous_users(user, key):
    with pytest.raises(ValidationError, match=key):
        _users(**user)


@pytest.mark.parametrize(
    "ftp, key",
    [
        ({"users": [{"name": "root", "password_hash": HASH}]}, "system account"),
        ({"users": [{"name": "f", "password_hash": HASH, "home": "/etc"}]}, "home"),
        ({"extra_options": {"anonymous_enable": "YES"}}, "set by the role"),
        ({"extra_options": {"ssl_enable": "NO"}}, "set by the role"),
        ({"extra_options": {"chroot_local_user": "NO"}}, "set by the role"),
    ],
)
def test_f18_ftp_refuses_overrides_and_system_accounts(ftp, key):
    from fleetops.roles.ftp_spec import FtpData

    with pytest.raises(ValidationError, match=key):
        FtpData.model_validate({"ftp": ftp})


# ----- F19: bad input ended in tracebacks ---------------------------------------------------------
@pytest.mark.parametrize(
    "data, message",
    [
        ({"hosts": [{"name": "a", "groups": ["class"]}]}, "Python keyword"),
        ({"hosts": [{"name": "a", "groups": ["lambda"]}]}, "Python keyword"),
        ({"subnet": "127.0.0.0/24", "hosts": [{"name": "a"}]}, "private range"),
        ({"subnet": "0.0.0.0/24", "hosts": [{"name": "a"}]}, "private range"),
        ({"subnet": "169.254.0.0/24", "hosts": [{"name": "a"}]}, "private range"),
        ({"subnet": "240.0.0.0/24", "hosts": [{"name": "a"}]}, "private range"),
        ({"subnet": "10.77.0.5/24", "hosts": [{"name": "a"}]}, "host bits set; did you mean 10.77.0.0/24"),
    ],
)
def test_f19_lab_specs_that_would_break_later(data, message):
    from fleetops.lab.spec import parse_spec

    with pytest.raises(InputError, match=message):
        parse_spec(data, source="lab.yml")


def test_f19_lab_subnet_on_the_controllers_own_network_is_refused(monkeypatch):
    import ipaddress

    from fleetops.lab import network

    monkeypatch.setattr(network, "local_networks", lambda skip: {"eth0": ipaddress.IPv4Network("192.168.1.0/24")})
    with pytest.raises(InputError, match="eth0"):
        network.check_not_local(ipaddress.IPv4Network("192.168.1.0/24"), "fo-lab")
    network.check_not_local(ipaddress.IPv4Network("10.77.0.0/24"), "fo-lab")


@pytest.mark.parametrize(
    "content, message",
    [
        (b"\xff\xfe\x00binary", "not a UTF-8 text file"),
        (b"checks: 5\n", "expected a list of checks"),
        (b"root:$6$secret-hash-field:19000:0:99999:7:::\n:", "not valid YAML"),
    ],
)
def test_f19_bad_suites_are_one_line(tmp_path, content, message):
    from fleetops.checks.suite import load_suite

    path = tmp_path / "suite.yml"
    path.write_bytes(content)
    with pytest.raises(InputError, match=message) as error:
        load_suite(str(path))
    assert "secret-hash-field" not in str(error.value) and "\n" not in str(error.value)


def test_f19_history_since_far_in_the_past_means_everything():
    from fleetops.checking.history import parse_since

    assert parse_since("99999999999d") == 0.0 and parse_since("10000000d") == 0.0


@pytest.mark.parametrize("port", ["abc", "0", "70000", True])
def test_f19_bad_ssh_port_is_one_line(port):
    from types import SimpleNamespace

    from fleetops.checking.target import SshTarget

    with pytest.raises(InputError, match="ssh_port"):
        SshTarget.from_host(SimpleNamespace(name="h", data={"ssh_port": port}))


def test_f19_an_inventory_that_exits_is_an_input_error(tmp_path):
    from fleetops.inventory import load_inventory

    path = tmp_path / "inventory.py"
    path.write_text("raise SystemExit(5)\n")
    with pytest.raises(InputError, match="exited"):
        load_inventory(path)


# ----- F14: fact output (digests of password hashes) was printed at -vvv ------------------------
def test_f14_fact_output_is_never_printed_at_any_verbosity():
    from types import SimpleNamespace

    from fleetops.runner.deploy import _set_verbosity

    state = SimpleNamespace()
    _set_verbosity(state, 3)
    assert state.print_output is True and state.print_fact_output is False


# ----- F5/F6/F9: every value that reaches a config language is validated there ----------------
@pytest.mark.parametrize("bad", [bad for bad in INJECTIONS if bad not in ("a b", "../x")])  # calendar syntax
def test_f5_backup_schedule_refuses_injection(bad):
    with pytest.raises(ValidationError, match="schedule"):
        _policy(schedule=f"daily{bad}")


@pytest.mark.parametrize(
    "spec, data, key",
    [
        ("web", {"sites": [{"name": "a", "server_names": ["x; root /etc"]}]}, "server_names"),
        (
            "web",
            {"sites": [{"name": "a", "extra_directives": ["add_header X y; } server { listen 81;"]}]},
            "extra_directives",
        ),
        ("web", {"sites": [{"name": "a", "proxy_pass": "http://x/;include /etc/passwd"}]}, "proxy_pass"),
        ("ftp", {"extra_options": {"ftpd_banner": "hi\nanonymous_enable=YES"}}, "extra_options"),
        ("ftp", {"pasv_address": "1.2.3.4\nlisten=NO"}, "pasv_address"),
        (
            "baseline",
            {"sudo_rules": [{"name": "x", "who": "bob", "commands": ["/bin/ls\nbob ALL=(ALL) ALL"]}]},
            "commands",
        ),
        ("baseline", {"sudo_rules": [{"name": "x", "who": "bob ALL", "commands": ["/bin/ls"]}]}, "who"),
        ("baseline", {"users": [{"name": "bob", "shell": "/bin/sh\nExecStart=/x"}]}, "shell"),
        ("baseline", {"sshd": {"allow_groups": ["ops\nPermitRootLogin yes"]}}, "allow_groups"),
        ("edge", {"model_dir": "m", "server_api": "http://x'; rm -rf /"}, "server_api"),
        ("edge", {"model_dir": "m", "listen_host": "0.0.0.0 --reload"}, "listen_host"),
    ],
)
def test_f9_directive_values_are_validated_for_their_language(spec, data, key):
    from fleetops.roles.edge_spec import EdgeData
    from fleetops.roles.ftp_spec import FtpData
    from fleetops.roles.spec import BaselineData
    from fleetops.roles.web_spec import WebData

    model, wrap = {
        "web": (WebData, "web"),
        "ftp": (FtpData, "ftp"),
        "edge": (EdgeData, "edge"),
        "baseline": (BaselineData, None),
    }[spec]
    with pytest.raises(ValidationError, match=key):
        model.model_validate({wrap: data} if wrap else data)
