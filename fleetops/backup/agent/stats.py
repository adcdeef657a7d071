"""Table statistics (rows and ``CHECKSUM TABLE`` per table) inside one consistent snapshot: the
record backups made before round 2 kept, which verify still compares them with.
"""

from __future__ import annotations

from .binlogs import ROOT_CLIENT, UNLOGGED, Position
from .common import TABLE, AgentError, run


def tables(database: str) -> list[str]:
    names = run(
        [*ROOT_CLIENT, "-e", "SELECT table_name FROM information_schema.tables "
         f"WHERE table_schema='{database}' AND table_type='BASE TABLE' ORDER BY table_name"]
    ).split()  # fmt: skip
    for name in names:
        if not TABLE.match(name):
            raise AgentError(f"unsupported table name in {database}: {name!r}")
    return names


def snapshot_stats(database: str) -> tuple[str, Position | None]:
    """``table<TAB>rows<TAB>checksum`` lines (sorted) and the snapshot's binlog position."""
    names = tables(database)
    script = ["START TRANSACTION WITH CONSISTENT SNAPSHOT;", "SHOW STATUS LIKE 'binlog_snapshot_%';"]
    for name in names:
        script.append(f"SELECT '{name}', COUNT(*) FROM `{database}`.`{name}`;")
        script.append(f"CHECKSUM TABLE `{database}`.`{name}`;")
    script.append("COMMIT;")
    output = run([*ROOT_CLIENT, UNLOGGED], input_text="\n".join(script) + "\n").splitlines()
    values = dict(line.split("\t", 1) for line in output[:2] if "\t" in line)
    position = None
    if values.get("Binlog_snapshot_file"):
        position = Position(values["Binlog_snapshot_file"], int(values["Binlog_snapshot_position"]))
    rows = output[2:]
    if len(rows) != 2 * len(names):
        raise AgentError(f"table statistics of {database}: expected {2 * len(names)} lines, got {len(rows)}")
    lines = []
    for index, name in enumerate(names):
        count = rows[2 * index].split("\t")[1]
        checksum = rows[2 * index + 1].split("\t")[1]
        lines.append(f"{name}\t{count}\t{checksum}\n")
    return "".join(lines), position
