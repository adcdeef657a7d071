"""Logical dumps: written through compression (and encryption), hashed on the way, and unpacked.

A dump with ``--single-transaction --master-data=2`` prints the binlog position of its snapshot
near the top; the pump reads that line as the SQL streams past. The pump also keeps a sha256 of
each table's data section (its INSERT statements): the record of what the dump holds, taken from the dump itself (so
it is consistent with it by construction, even while the server takes writes) at the cost of
hashing the stream once. Verify restores the file into scratch, dumps that again and compares.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import threading
from pathlib import Path
from .binlogs import ROOT_CLIENT, UNLOGGED, Position
from .common import CHUNK, AgentError, pipeline

# A table's data section: from its first INSERT to the UNLOCK TABLES after its rows (MariaDB 10.11
# puts each row on a line of its own; older dumps put them on one line: both hash the same way).
SECTION = re.compile(rb"\n(?:INSERT INTO `([^`\n]{1,64})`|UNLOCK TABLES;)")
CARRY = 256  # longer than any marker, so one split across two reads is found in the next
CHANGE_MASTER = re.compile(rb"CHANGE MASTER TO MASTER_LOG_FILE='([^']+)', MASTER_LOG_POS=(\d+);")
HEAD_LIMIT = 1 << 20


def suffix(config: dict) -> str:
    ext = {"zstd": ".sql.zst", "gzip": ".sql.gz"}.get(config.get("compression", "zstd"), ".sql")
    return ext + (".enc" if config.get("key_file") else "")


def pack_commands(config: dict) -> list[list[str]]:
    compression = config.get("compression", "zstd")
    commands = {"zstd": [["zstd", "-q", "-T0", "-3"]], "gzip": [["gzip", "-c", "-6"]]}.get(compression, [["cat"]])
    if config.get("key_file"):
        commands.append(["openssl", "enc", "-aes-256-cbc", "-pbkdf2", "-salt", "-pass", f"file:{config['key_file']}"])
    return commands


def unpack_commands(config: dict, path: Path) -> list[list[str]]:
    commands = [["cat", "--", str(path)]]
    if config.get("key_file"):
        commands = [["openssl", "enc", "-d", "-aes-256-cbc", "-pbkdf2", "-pass", f"file:{config['key_file']}",
                     "-in", str(path)]]  # fmt: skip
    decompress = {"zstd": ["zstd", "-q", "-d", "-c"], "gzip": ["gzip", "-d", "-c"]}.get(config.get("compression", ""))
    return commands + ([decompress] if decompress else [])


def dump_argv(config: dict, database: str, with_position: bool) -> list[str]:
    login = [f"--defaults-extra-file={config['options_file']}"] if config.get("options_file") else []
    argv = ["mysqldump", *login, "--single-transaction", "--quick", "--routines", "--triggers", "--events",
            "--no-tablespaces", "--hex-blob", "--skip-dump-date"]  # fmt: skip
    if not login:
        argv[1:1] = ["--protocol=socket", "-u", "root"]
    return argv + (["--master-data=2"] if with_position else []) + [database]


class Dump:
    """One database dumped into ``path``: ``position`` is known as soon as the dump prints it."""

    def __init__(self, config: dict, database: str, path: Path, with_position: bool) -> None:
        self.position: Position | None = None
        self.started = threading.Event()  # the snapshot exists (position seen, or none expected)
        self.error: BaseException | None = None
        self.digest, self.size = "", 0
        self.tables: dict[str, hashlib._Hash] = {}  # table -> sha256 of its data section
        self._section: hashlib._Hash | None = None
        self._with_position = with_position
        self._dump = subprocess.Popen(
            dump_argv(config, database, with_position), stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        read_end, self._write_end = os.pipe()
        self._stderr = b""
        self._threads = [
            threading.Thread(target=self._pump, daemon=True),
            threading.Thread(target=self._pack, args=(config, path, read_end), daemon=True),
            threading.Thread(target=self._read_stderr, daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def _read_stderr(self) -> None:
        self._stderr = self._dump.stderr.read()  # type: ignore[union-attr]

    def _pump(self) -> None:
        head, carry = b"", b""
        try:
            with open(self._write_end, "wb", buffering=0) as sink:
                for block in iter(lambda: self._dump.stdout.read1(CHUNK), b""):  # type: ignore[union-attr]
                    carry = self._hash_sections(carry + block, final=False)
                    if not self.started.is_set():
                        head += block
                        match = CHANGE_MASTER.search(head)
                        if match:
                            self.position = Position(match.group(1).decode(), int(match.group(2)))
                        if match or not self._with_position or len(head) > HEAD_LIMIT:
                            self.started.set()
                    sink.write(block)
                self._hash_sections(carry, final=True)
        except BaseException as error:  # noqa: BLE001 - reported by finish()
            self.error = error
            self._dump.kill()  # nobody reads its output any more: it must not block forever
        finally:
            self.started.set()

    def _hash_sections(self, data: bytes, final: bool) -> bytes:
        """Feed each table's data section into its sha256 (C-speed: a regex finds the section
        boundaries, slices go to the hash); returns the tail kept for the next read."""
        cut = len(data) if final else max(len(data) - CARRY, 0)
        view, position = memoryview(data), 0
        for match in SECTION.finditer(data):
            if match.start() >= cut:
                break
            if self._section is not None:
                self._section.update(view[position : match.start()])
            name = match.group(1)
            self._section = self.tables.setdefault(name.decode(), hashlib.sha256()) if name else None
            position = match.start()
        if self._section is not None:
            self._section.update(view[position:cut])
        return data[cut:]

    def table_digests(self) -> str:
        """``table<TAB>sha256`` lines, sorted (a table without rows has no line)."""
        return "".join(f"{name}\t{digest.hexdigest()}\n" for name, digest in sorted(self.tables.items()))

    def _pack(self, config: dict, path: Path, read_end: int) -> None:
        try:
            with open(read_end, "rb") as source, open(path, "wb") as sink:
                self.digest, self.size = pipeline(pack_commands(config), sink, source)
                if path != Path(os.devnull):
                    os.fsync(sink.fileno())
        except BaseException as error:  # noqa: BLE001 - reported by finish()
            self.error = error

    def finish(self) -> None:
        """Wait for every stage; any failing one fails the dump (pipefail)."""
        for thread in self._threads:
            thread.join()
        code = self._dump.wait()
        if code != 0:
            tail = " ".join(self._stderr.decode(errors="replace").strip().splitlines()[-3:])
            raise AgentError(f"mysqldump failed ({code}): {tail}")
        if self.error is not None:
            raise AgentError(str(self.error))
        if self._with_position and self.position is None:
            raise AgentError("the dump printed no binlog position (is binary logging on?)")


def restore_dump(config: dict, path: Path, database: str) -> None:
    """Unpack a dump into ``database`` (unlogged: a restore is not a change to replay later)."""
    with open(os.devnull, "wb") as sink:
        pipeline([*unpack_commands(config, path), [*ROOT_CLIENT, UNLOGGED, database]], sink)
