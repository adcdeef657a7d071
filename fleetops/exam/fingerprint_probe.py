"""The remote half of a seat fingerprint on a real host (sent to ``python3 -`` over SSH, as root).

It prints one JSON document: installed packages with versions, accounts (name, uid, shell),
groups with members, each account's lock state and a digest of its password hash (never the
hash), enabled units, timers, listening TCP ports, crontabs, and the sha256, mode and owner of
every file under the tracked trees (volatile paths skipped). Python 3.6-compatible, stdlib only.
"""

import hashlib
import json
import os
import stat
import subprocess

TREES = ("/etc", "/srv", "/var/www", "/opt", "/home", "/root", "/usr/local")
SKIP = (
    "/etc/shadow", "/etc/gshadow", "/etc/shadow-", "/etc/gshadow-", "/etc/passwd-", "/etc/group-",
    "/etc/subuid-", "/etc/subgid-", "/etc/.pwd.lock", "/etc/resolv.conf", "/etc/ld.so.cache",
    "/root/.cache", "/root/.fleetops", "/root/.ansible", "/etc/machine-id",
)  # fmt: skip


def _run(argv):
    try:
        return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=60).stdout.decode(
            errors="replace"
        )
    except (OSError, subprocess.SubprocessError):
        return ""


def _files():
    out = {}
    for tree in TREES:
        for dirpath, dirnames, filenames in os.walk(tree):
            dirnames[:] = [d for d in dirnames if os.path.join(dirpath, d) not in SKIP]
            for name in filenames:
                path = os.path.join(dirpath, name)
                if path in SKIP:
                    continue
                try:
                    info = os.lstat(path)
                    if stat.S_ISLNK(info.st_mode):
                        content = "link:" + os.readlink(path)
                    elif stat.S_ISREG(info.st_mode):
                        digest = hashlib.sha256()
                        with open(path, "rb") as handle:
                            for block in iter(lambda: handle.read(1 << 20), b""):
                                digest.update(block)
                        content = digest.hexdigest()
                    else:
                        content = "type:%o" % stat.S_IFMT(info.st_mode)
                except OSError:
                    continue
                out[path] = "%s %04o %d:%d" % (content, stat.S_IMODE(info.st_mode), info.st_uid, info.st_gid)
    return out


def _ports():
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as handle:
                next(handle)
                for line in handle:
                    fields = line.split()
                    if fields[3] == "0A":  # LISTEN
                        ports.add(int(fields[1].rsplit(":", 1)[1], 16))
        except OSError:
            continue
    return sorted(ports)


def main():
    packages = {}
    for line in _run(["dpkg-query", "-W", "-f", "${Package}\t${Version}\t${db:Status-Abbrev}\n"]).splitlines():
        parts = line.split("\t")
        if len(parts) == 3 and parts[2].startswith("ii"):
            packages[parts[0]] = parts[1]
    users, groups, locks = {}, {}, {}
    with open("/etc/passwd") as handle:
        for line in handle:
            parts = line.rstrip("\n").split(":")
            if len(parts) >= 7:
                users[parts[0]] = "%s %s" % (parts[2], parts[6])
    with open("/etc/group") as handle:
        for line in handle:
            parts = line.rstrip("\n").split(":")
            if len(parts) >= 4:
                groups[parts[0]] = parts[3]
    with open("/etc/shadow") as handle:
        for line in handle:
            parts = line.split(":")
            if len(parts) > 1:
                field = parts[1]
                locks[parts[0]] = {
                    "locked": field.startswith("!") or field.startswith("*"),
                    "hash": hashlib.sha256(field.lstrip("!").encode()).hexdigest()[:16] if field.lstrip("!") else "",
                }
    units = sorted(
        line.split()[0]
        for line in _run(["systemctl", "list-unit-files", "--state=enabled", "--no-legend", "--no-pager"]).splitlines()
        if line.strip()
    )
    crontabs = sorted(os.listdir("/var/spool/cron/crontabs")) if os.path.isdir("/var/spool/cron/crontabs") else []
    print(
        json.dumps(
            {
                "packages": packages,
                "users": users,
                "groups": groups,
                "locks": locks,
                "units": units,
                "ports": _ports(),
                "crontabs": crontabs,
                "files": _files(),
            },
            sort_keys=True,
        )
    )


main()
