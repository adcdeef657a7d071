"""The per-table record a dump keeps: the same digests however the stream is cut into reads."""

from __future__ import annotations

import hashlib

import pytest

from fleetops.backup.agent.dumps import Dump

DUMP = (
    b"-- MariaDB dump 10.19\n--\n-- Table structure for table `items`\n--\nCREATE TABLE `items` (...);\n"
    b"LOCK TABLES `items` WRITE;\n/*!40000 ALTER TABLE `items` DISABLE KEYS */;\n"
    b"INSERT INTO `items` VALUES\n(1,'apple'),\n(2,'pear'),\n(3,'plum');\n"
    b"/*!40000 ALTER TABLE `items` ENABLE KEYS */;\nUNLOCK TABLES;\n"
    b"LOCK TABLES `big` WRITE;\nINSERT INTO `big` VALUES (1,'x'),(2,'y');\nINSERT INTO `big` VALUES (3,'z');\n"
    b"UNLOCK TABLES;\n-- Dump completed\n"
)


def digests(data: bytes, read_size: int) -> str:
    dump = Dump.__new__(Dump)  # the hashing alone, without a mysqldump behind it
    dump.tables, dump._section = {}, None
    carry = b""
    for start in range(0, len(data), read_size):
        carry = dump._hash_sections(carry + data[start : start + read_size], final=False)
    dump._hash_sections(carry, final=True)
    return dump.table_digests()


@pytest.mark.parametrize("read_size", [1, 7, 64, 300, 1 << 20])
def test_the_record_does_not_depend_on_how_the_stream_is_read(read_size):
    assert digests(DUMP, read_size) == digests(DUMP, len(DUMP))


def test_each_table_hashes_its_own_rows_and_a_missing_row_shows():
    record = dict(line.split("\t") for line in digests(DUMP, 4096).splitlines())
    items = DUMP[DUMP.index(b"\nINSERT INTO `items`") : DUMP.index(b"\nUNLOCK TABLES;")]
    assert record["items"] == hashlib.sha256(items).hexdigest()
    assert set(record) == {"items", "big"}
    forged = DUMP.replace(b"(2,'pear'),", b"")
    assert dict(line.split("\t") for line in digests(forged, 4096).splitlines())["items"] != record["items"]
    assert digests(forged, 4096).split("\n")[0] == digests(DUMP, 4096).split("\n")[0]  # big is unchanged
