"""MySQL role pieces without a server: spec, SQL quoting, password digests, grants, templates."""

import pytest
from pydantic import ValidationError

from fleetops.facts.mysql import MysqlAccounts, MysqlGrants, parse_grants
from fleetops.operations.mysql import auth_digest, native_password_hash, sql_string
from fleetops.render import render
from fleetops.roles.mysql_spec import MysqlData
from fleetops.secrets import Secret


def spec(**values):
    return MysqlData.model_validate({"mysql": values}).mysql


def test_sql_string_escapes_quotes_and_backslashes():
    assert sql_string("it's") == "'it\\'s'"
    assert sql_string("a\\b") == "'a\\\\b'"
    with pytest.raises(ValueError):
        sql_string("nul\x00byte")


def test_native_password_hash_matches_mysql():
    # SELECT PASSWORD('password') on MariaDB/MySQL 5.x
    assert native_password_hash("password") == "*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19"
    assert len(auth_digest(Secret("password"))) == 64


def test_grant_lines_parse_to_pairs_and_hide_nothing_sensitive():
    lines = [
        "GRANT USAGE ON *.* TO `report`@`localhost`",
        "GRANT SELECT, SHOW VIEW ON `shop`.* TO `report`@`localhost`",
        "GRANT ALL PRIVILEGES ON `app`.* TO `app`@`%`",
    ]
    assert parse_grants(lines) == {("SELECT", "shop.*"), ("SHOW VIEW", "shop.*"), ("ALL PRIVILEGES", "app.*")}
    command = MysqlGrants().command(user="report", host="localhost")
    assert "IDENTIFIED BY PASSWORD" in command and "sed" in command  # stripped on the host
    assert "SHA2(authentication_string, 256)" in MysqlAccounts().command()


def test_spec_normalises_privileges_and_checks_references():
    parsed = spec(
        databases=[{"name": "shop"}],
        users=[{"name": "app", "password": "pw-123", "privileges": {"shop": ["all", "select"]}}],
    )
    assert parsed.users[0].privileges == {"shop": ["ALL PRIVILEGES", "SELECT"]}
    with pytest.raises(ValidationError, match="undeclared database 'nope'"):
        spec(users=[{"name": "app", "password": "pw-123", "privileges": {"nope": ["SELECT"]}}])
    with pytest.raises(ValidationError, match="unknown privilege"):
        spec(
            databases=[{"name": "shop"}],
            users=[{"name": "app", "password": "pw-123", "privileges": {"shop": ["DROP TABLES; --"]}}],
        )
    with pytest.raises(ValidationError, match="name"):
        spec(databases=[{"name": "shop`; DROP"}])
    with pytest.raises(ValidationError, match="bind_address"):
        spec(bind_address="everywhere")
    with pytest.raises(ValidationError, match="password"):
        spec(backup={"schedule": "daily"})  # the backup account needs a password
    with pytest.raises(ValidationError, match="reserved"):
        spec(databases=[{"name": "fleetops_x"}])


def test_server_settings_template():
    config = render(
        "mysql/fleetops.cnf.j2", mysql=spec(settings={"slow_query_log": True, "max_connections": 50}), binlog=None
    )
    assert "[mysqld]" in config and "slow_query_log = ON" in config
    assert "max_connections = 50" in config and "bind-address = 127.0.0.1" in config
    assert "log_bin" not in config


def test_point_in_time_recovery_turns_on_row_binlogs():
    config = render("mysql/fleetops.cnf.j2", mysql=spec(), binlog={"server_id": 7, "expire_seconds": 86400})
    assert "log_bin = fleetops-bin\nbinlog_format = ROW\nserver_id = 7\nbinlog_expire_logs_seconds = 86400" in config


@pytest.mark.parametrize("compression", ["zstd", "gzip", "none"])
def test_backup_units_run_the_agent_and_hold_no_secret(compression):
    policy = spec(
        databases=[{"name": "shop"}],
        backup={"password": "canary-pw-123", "compression": compression, "encryption_key": "canary-key-456"},
    ).backup
    unit = render("backup/agent.service.j2", description="d", agent="/usr/local/sbin/fleetops-backup",
                  arguments="run mysql", after="mariadb.service")  # fmt: skip
    timer = render("backup/agent.timer.j2", description="d", schedule=policy.schedule)
    assert "ExecStart=/usr/local/sbin/fleetops-backup run mysql" in unit and "After=mariadb.service" in unit
    assert "OnCalendar=daily" in timer and "Persistent=true" in timer
    assert policy.rules() == {"keep_last": 3, "keep_within_days": 0, "keep_daily": 7, "keep_weekly": 4,
                              "keep_monthly": 6}  # fmt: skip
    for text in (unit, timer, repr(policy.rules())):
        assert "canary-pw-123" not in text and "canary-key-456" not in text  # 0600 files only


def test_the_old_retention_keys_get_a_one_line_migration_error():
    with pytest.raises(ValidationError, match="keep_count/keep_days were replaced by GFS retention"):
        spec(backup={"password": "pw", "keep_count": 7})
