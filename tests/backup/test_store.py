"""The append-only store behind the forced command: adds and reads, never deletes or overwrites."""

from __future__ import annotations

import hashlib
import io
import json
import os

import pytest

from fleetops.backup.agent import store
from fleetops.backup.agent.common import AgentError, write_sums


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def config(tmp_path):
    return {"root": str(tmp_path / "root"), "clients": {"db1": {"mysql": {"keep_last": 2}}}}


def serve(config, request: str, data: bytes = b"", client: str = "db1") -> bytes:
    out = io.BytesIO()
    store.serve(config, client, request, io.BytesIO(data), out)
    return out.getvalue()


def backup_files() -> dict[str, bytes]:
    return {"shop.sql.zst": b"dump bytes", "shop.stats": b"items\t3\t123\n", "manifest.json": b'{"id": "x"}\n'}


def upload(config, backup_id: str = "20261201T000000Z") -> dict[str, bytes]:
    files = backup_files()
    for name, data in files.items():
        serve(config, f"put mysql {backup_id} {name} {sha(data)}", data)
    sums = "".join(f"{sha(data)}  {name}\n" for name, data in sorted(files.items())).encode()
    serve(config, f"put mysql {backup_id} SHA256SUMS {sha(sums)}", sums)
    return files


def test_put_seal_list_get(config, tmp_path, capsys):
    files = upload(config)
    serve(config, "seal mysql 20261201T000000Z")
    directory = tmp_path / "root/db1/mysql/20261201T000000Z"
    assert oct(directory.stat().st_mode & 0o777) == "0o500"
    assert all(oct((directory / n).stat().st_mode & 0o777) == "0o440" for n in files)
    capsys.readouterr()
    serve(config, "list mysql")
    listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [item["id"] for item in listed] == ["20261201T000000Z"]
    assert serve(config, "get mysql 20261201T000000Z shop.sql.zst") == b"dump bytes"


def test_a_file_that_arrives_damaged_is_refused_and_not_kept(config, tmp_path):
    with pytest.raises(AgentError, match="arrived with sha256"):
        serve(config, f"put mysql 20261201T000000Z shop.stats {sha(b'other')}", b"sent")
    directory = tmp_path / "root/db1/mysql"
    assert not (directory / "20261201T000000Z" / "shop.stats").exists()
    assert list((directory / ".incoming").iterdir()) == []


def test_copies_are_never_overwritten_and_sealed_backups_take_no_files(config):
    upload(config)
    stats = backup_files()["shop.stats"]
    serve(config, f"put mysql 20261201T000000Z shop.stats {sha(stats)}", stats)  # the same content again: ok
    with pytest.raises(AgentError, match="exists with other content"):
        serve(config, f"put mysql 20261201T000000Z shop.stats {sha(b'forged')}", b"forged")
    serve(config, "seal mysql 20261201T000000Z")
    with pytest.raises(AgentError, match="is sealed"):
        serve(config, f"put mysql 20261201T000000Z extra.sql {sha(b'x')}", b"x")
    assert serve(config, "get mysql 20261201T000000Z shop.stats") == stats


def test_seal_checks_the_whole_directory(config, tmp_path):
    files = backup_files()
    for name, data in files.items():
        serve(config, f"put mysql 20261202T000000Z {name} {sha(data)}", data)
    with pytest.raises(AgentError, match="SHA256SUMS is missing"):
        serve(config, "seal mysql 20261202T000000Z")
    directory = tmp_path / "root/db1/mysql/20261202T000000Z"
    write_sums(directory, {"shop.sql.zst": sha(b"something else")})
    with pytest.raises(AgentError, match="refused to seal"):
        serve(config, "seal mysql 20261202T000000Z")
    assert not (directory / store.SEALED).exists()


@pytest.mark.parametrize(
    "request_line, message",
    [
        ("rm -rf /srv/fleetops-backups", "not a store request"),
        ("", "no request"),
        ("delete mysql 20261201T000000Z", "not a store request"),
        ("put mysql ../../etc passwd " + "0" * 64, "not a backup id"),
        ("put mysql 20261201T000000Z ../x " + "0" * 64, "not a file name"),
        ("get mysql 20261201T000000Z /etc/passwd", "not a file name"),
        ("list app-edge", "keeps no 'app-edge' backups"),
        ("get-binlog mysql ../../x.000001", "not a binlog name"),
        ("seal mysql", "takes 2 arguments"),
        ("put mysql 20261201T000000Z a.sql nothex", "not a sha256"),
    ],
)
def test_everything_else_is_refused(config, request_line, message):
    with pytest.raises(AgentError, match=message):
        serve(config, request_line, b"x")


def test_a_client_reaches_only_its_own_directory(config):
    with pytest.raises(AgentError, match="unknown client"):
        serve(config, "list mysql", client="db2")


def test_binlogs_are_add_only_too(config, capsys):
    serve(config, f"binlog mysql fleetops-bin.000001 {sha(b'log1')}", b"log1")
    with pytest.raises(AgentError, match="exists with other content"):
        serve(config, f"binlog mysql fleetops-bin.000001 {sha(b'log2')}", b"log2")
    capsys.readouterr()
    serve(config, "binlogs mysql")
    assert [json.loads(line) for line in capsys.readouterr().out.splitlines()] == [
        {"name": "fleetops-bin.000001", "sha256": sha(b"log1")}
    ]
    assert serve(config, "get-binlog mysql fleetops-bin.000001") == b"log1"


def test_serve_main_reads_the_request_from_ssh_original_command_only(config, monkeypatch):
    monkeypatch.setenv("SSH_ORIGINAL_COMMAND", "rm -rf /")
    with pytest.raises(AgentError, match="not a store request"):
        store.serve_main(config, "db1")
    assert os.umask(0o022) == 0o077  # files it writes are private
