"""The remote half of ``fleetops check``: one script, one SSH round trip, every probe of a host.

This file is sent as-is to ``python3 -`` on the host (it imports nothing from fleetops) with the
probe list embedded as a JSON string literal, so no value ever reaches the remote command line.
It prints two lines of Python literals (read back with ``ast.literal_eval``): the host clock at
start (for the clock-offset check) and the results, keyed by probe id. A probe that raises becomes
``{"error": ...}`` and never stops the others. Facts are read with psutil when the host has it and
from /proc, /etc and systemctl otherwise. It must stay compatible with the oldest Python 3 a
managed host may have (3.6).

Speed matters here (it runs on every host on every sweep): modules beyond the interpreter's
core (re, subprocess, hashlib, socket, psutil) are imported only by the probes that need them,
and the data goes both ways as Python literals, so json and re are never imported for nothing;
that halves the script's CPU time on a small host.
"""

import grp
import os
import pwd
import stat
import sys
import time

PSEUDO_FILESYSTEMS = {
    "proc",
    "sysfs",
    "devtmpfs",
    "devpts",
    "cgroup",
    "cgroup2",
    "securityfs",
    "pstore",
    "bpf",
    "debugfs",
    "tracefs",
    "configfs",
    "fusectl",
    "mqueue",
    "hugetlbfs",
    "autofs",
    "binfmt_misc",
    "rpc_pipefs",
    "nsfs",
    "efivarfs",
    "ramfs",
    "squashfs",
    "tmpfs",
}


def run(argv, timeout=10):
    """Run argv without a shell; return (exit code, stdout, stderr)."""
    import subprocess

    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    return proc.returncode, proc.stdout.decode(errors="replace"), proc.stderr.decode(errors="replace")


def probe_uptime(args):
    with open("/proc/uptime") as handle:
        return {"seconds": float(handle.read().split()[0])}


def container_kind():
    """The container manager this host runs under (systemd-nspawn, docker, lxc, podman, ...), or
    None: what systemd-detect-virt --container reads, without forking it."""
    try:
        with open("/run/systemd/container") as handle:
            return handle.read().strip() or None
    except OSError:
        pass
    if os.path.exists("/.dockerenv"):
        return "docker"
    try:
        with open("/proc/1/environ", "rb") as handle:
            for item in handle.read().split(b"\0"):
                if item.startswith(b"container="):
                    return item.split(b"=", 1)[1].decode() or None
    except OSError:
        pass
    return None


def _read(path):
    try:
        with open(path) as handle:
            return handle.read().strip()
    except OSError:
        return None


def cpu_quota():
    """CPUs the host's cgroup may use (cgroup v2 cpu.max, v1 cfs quota), or None when unlimited."""
    for path in ("/sys/fs/cgroup/cpu.max", "/sys/fs/cgroup/unified/cpu.max"):
        text = _read(path)
        if text:
            quota, _, period = text.partition(" ")
            if quota != "max" and period:
                return float(quota) / float(period)
            return None
    quota, period = _read("/sys/fs/cgroup/cpu/cpu.cfs_quota_us"), _read("/sys/fs/cgroup/cpu/cpu.cfs_period_us")
    if quota and period and int(quota) > 0:
        return int(quota) / int(period)
    return None


def probe_load(args):
    load1, load5, load15 = os.getloadavg()
    result = {"load1": load1, "load5": load5, "load15": load15, "cpus": os.cpu_count() or 1}
    result["container"] = container_kind()
    result["quota_cpus"] = cpu_quota()
    if result["container"] or result["quota_cpus"]:
        result["pressure"] = probe_pressure({"resource": "cpu"})
    return result


# Where pressure stall information is read, the host's own first: inside a container (or any
# cgroup namespace) the root of the visible cgroup v2 tree is the container's cgroup; on a plain
# host the root has no pressure files and the system-wide /proc/pressure is what there is.
PRESSURE_SOURCES = (
    "/sys/fs/cgroup/{resource}.pressure",
    "/sys/fs/cgroup/unified/{resource}.pressure",
    "/proc/pressure/{resource}",
)


def parse_pressure(text):
    """``some avg10=1.37 avg60=1.35 avg300=5.77 total=547026172`` lines -> {"some": {...}, "full": {...}}."""
    lines = {}
    for line in text.splitlines():
        kind, _, rest = line.partition(" ")
        if kind in ("some", "full"):
            lines[kind] = {
                key: float(value)
                for key, _, value in (item.partition("=") for item in rest.split())
                if key.startswith("avg")
            }
    return lines


def probe_pressure(args):
    resource = args.get("resource", "cpu")
    for pattern in PRESSURE_SOURCES:
        path = pattern.format(resource=resource)
        try:
            with open(path) as handle:
                text = handle.read()
        except OSError:
            continue
        return {"source": path, **parse_pressure(text)}
    return {"error_text": "no pressure stall information (PSI) on this host (kernel without CONFIG_PSI, or psi=0)"}


UNLIMITED = 2**62  # cgroup v1 writes "no limit" as a huge number


def cgroup_memory():
    """This host's own memory cgroup: usage without reclaimable page cache, its limit (None when
    unlimited), swap usage and limit; cgroup v2 first, then v1. None when there is none visible."""
    for root in ("/sys/fs/cgroup", "/sys/fs/cgroup/unified"):
        current = _read(root + "/memory.current")
        if current is None:
            continue
        stat = dict(line.split() for line in (_read(root + "/memory.stat") or "").splitlines() if " " in line)
        limit = _read(root + "/memory.max")
        swap, swap_max = _read(root + "/memory.swap.current"), _read(root + "/memory.swap.max")
        return {
            "source": root + "/memory.current",
            "usage": int(current) - int(stat.get("inactive_file", 0)),
            "limit": None if limit in (None, "max") else int(limit),
            "swap_usage": int(swap) if swap else None,
            "swap_limit": None if swap_max in (None, "max") else int(swap_max),
        }
    usage = _read("/sys/fs/cgroup/memory/memory.usage_in_bytes")
    if usage is None:
        return None
    stat = dict(line.split() for line in (_read("/sys/fs/cgroup/memory/memory.stat") or "").splitlines() if " " in line)
    limit = int(_read("/sys/fs/cgroup/memory/memory.limit_in_bytes") or UNLIMITED)
    memsw = _read("/sys/fs/cgroup/memory/memory.memsw.usage_in_bytes")
    memsw_limit = int(_read("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes") or UNLIMITED)
    return {
        "source": "/sys/fs/cgroup/memory/memory.usage_in_bytes",
        "usage": int(usage) - int(stat.get("total_inactive_file", stat.get("inactive_file", 0))),
        "limit": None if limit >= UNLIMITED else limit,
        "swap_usage": int(memsw) - int(usage) if memsw else None,
        "swap_limit": None if memsw_limit >= UNLIMITED or limit >= UNLIMITED else memsw_limit - limit,
    }


def probe_meminfo(args):
    result = _meminfo()
    result["container"] = container_kind()
    result["cgroup"] = cgroup_memory()
    return result


def _meminfo():
    try:
        import psutil  # optional on the host
    except ImportError:
        psutil = None
    if psutil is not None:
        memory, swap = psutil.virtual_memory(), psutil.swap_memory()
        return {
            "mem_total": memory.total,
            "mem_available": memory.available,
            "swap_total": swap.total,
            "swap_free": swap.free,
            "source": "psutil",
        }
    values = {}
    with open("/proc/meminfo") as handle:
        for line in handle:
            key, _, rest = line.partition(":")
            values[key] = int(rest.split()[0]) * 1024
    available = values.get("MemAvailable", values.get("MemFree", 0))
    return {
        "mem_total": values["MemTotal"],
        "mem_available": available,
        "swap_total": values.get("SwapTotal", 0),
        "swap_free": values.get("SwapFree", 0),
        "source": "/proc/meminfo",
    }


def _mounts():
    mounts = []
    with open("/proc/self/mounts") as handle:
        for line in handle:
            device, mountpoint, fstype = line.split()[:3]
            mountpoint = mountpoint.replace("\\040", " ")
            mounts.append((device, mountpoint, fstype))
    return mounts


def probe_filesystems(args):
    """statvfs of the given paths, or of every mounted real filesystem."""
    paths = args.get("paths") or []
    targets = []
    if paths:
        targets = [(path, None) for path in paths]
    else:
        seen = set()
        for _device, mountpoint, fstype in _mounts():
            if fstype in PSEUDO_FILESYSTEMS or mountpoint in seen:
                continue
            if mountpoint.startswith(("/proc", "/sys", "/dev", "/run/credentials")):
                continue
            seen.add(mountpoint)
            targets.append((mountpoint, fstype))
    out = []
    for path, fstype in targets:
        try:
            info = os.statvfs(path)
        except OSError as error:
            out.append({"path": path, "error": error.strerror or str(error)})
            continue
        out.append(
            {
                "path": path,
                "fstype": fstype,
                "blocks": info.f_blocks * info.f_frsize,
                "free": info.f_bavail * info.f_frsize,
                "used": (info.f_blocks - info.f_bfree) * info.f_frsize,
                "inodes": info.f_files,
                "inodes_free": info.f_favail,
            }
        )
    return {"filesystems": out}


def probe_service(args):
    code, out, err = run(
        ["systemctl", "show", args["unit"], "--no-pager", "--property=LoadState,ActiveState,SubState,UnitFileState"]
    )
    if code != 0:
        return {"error": err.strip() or "systemctl show failed"}
    props = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    return {
        "load": props.get("LoadState", ""),
        "active": props.get("ActiveState", ""),
        "sub": props.get("SubState", ""),
        "enabled": props.get("UnitFileState", ""),
    }


def probe_process(args):
    pattern = None
    if args.get("pattern"):
        import re

        pattern = re.compile(args["pattern"])
    name = args.get("name")
    count = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/comm" % pid) as handle:
                comm = handle.read().strip()
            with open("/proc/%s/cmdline" % pid, "rb") as handle:
                cmdline = handle.read().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
        if name and comm != name:
            continue
        if pattern and not pattern.search(cmdline):
            continue
        count += 1
    return {"count": count}


def probe_listening(args):
    """TCP sockets in LISTEN state from /proc/net/tcp{,6} (this host's network namespace)."""
    port = int(args["port"])
    found = []
    for table, family in (("/proc/net/tcp", 4), ("/proc/net/tcp6", 6)):
        try:
            with open(table) as handle:
                next(handle)
                for line in handle:
                    fields = line.split()
                    local, state = fields[1], fields[3]
                    address, _, hexport = local.rpartition(":")
                    if state == "0A" and int(hexport, 16) == port:
                        found.append({"family": family, "address": address})
        except OSError:
            continue
        if found:  # one listener answers the question; skip reading the IPv6 table
            break
    return {"listening": bool(found), "sockets": found}


def probe_file(args):
    path = args["path"]
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return {"exists": False}
    result = {
        "exists": True,
        "mode": "%04o" % stat.S_IMODE(info.st_mode),
        "is_file": stat.S_ISREG(info.st_mode),
        "is_dir": stat.S_ISDIR(info.st_mode),
        "is_link": stat.S_ISLNK(info.st_mode),
        "size": info.st_size,
    }
    try:
        result["owner"] = pwd.getpwuid(info.st_uid).pw_name
    except KeyError:
        result["owner"] = str(info.st_uid)
    try:
        result["group"] = grp.getgrgid(info.st_gid).gr_name
    except KeyError:
        result["group"] = str(info.st_gid)
    if stat.S_ISREG(info.st_mode) and (args.get("sha256") or args.get("contains")):
        import hashlib
        import re

        digest = hashlib.sha256()
        matched = None
        pattern = re.compile(args["contains"].encode(), re.MULTILINE) if args.get("contains") else None
        with open(path, "rb") as handle:
            data = handle.read(args.get("max_bytes", 64 * 1024 * 1024))
        digest.update(data)
        if pattern is not None:
            matched = bool(pattern.search(data))
        result["sha256"] = digest.hexdigest()
        result["contains"] = matched
    return result


DPKG_STATUS = "/var/lib/dpkg/status"


def dpkg_stanza(text, name):
    """The fields of package ``name`` in dpkg's status file, or None (no fork of dpkg-query)."""
    marker = "Package: %s\n" % name
    if text.startswith(marker):
        start = 0
    else:
        start = text.find("\n" + marker)
        if start == -1:
            return None
        start += 1
    end = text.find("\n\n", start)
    fields = {}
    for line in text[start : end if end != -1 else len(text)].splitlines():
        if line and not line[0].isspace() and ":" in line:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    return fields


def probe_package(args):
    name = args["name"]
    if os.path.exists(DPKG_STATUS):
        with open(DPKG_STATUS, encoding="utf-8", errors="replace") as handle:
            fields = dpkg_stanza(handle.read(), name)
        if fields is None:
            return {"installed": False, "version": None, "manager": "dpkg"}
        installed = fields.get("Status", "").endswith(" installed")
        return {"installed": installed, "version": fields.get("Version") if installed else None, "manager": "dpkg"}
    code, out, _ = run(["rpm", "-q", "--qf", "%{VERSION}-%{RELEASE}", name])
    return {"installed": code == 0, "version": out.strip() if code == 0 else None, "manager": "rpm"}


def probe_user(args):
    name = args["name"]
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        return {"exists": False}
    groups = sorted(group.gr_name for group in grp.getgrall() if name in group.gr_mem)
    try:
        groups.insert(0, grp.getgrgid(entry.pw_gid).gr_name)
    except KeyError:
        pass
    result = {
        "exists": True,
        "uid": entry.pw_uid,
        "shell": entry.pw_shell,
        "home": entry.pw_dir,
        "groups": groups,
        "locked": None,
        "expired": None,
    }
    try:
        with open("/etc/shadow") as handle:
            for line in handle:
                fields = line.split(":")
                if fields[0] == name:
                    result["locked"] = fields[1].startswith("!")
                    expire = fields[7] if len(fields) > 7 else ""
                    result["expired"] = bool(expire.strip()) and int(expire) * 86400 <= time.time()
    except PermissionError:
        result["locked_error"] = "reading /etc/shadow needs root"
    return result


def probe_group(args):
    try:
        entry = grp.getgrnam(args["name"])
    except KeyError:
        return {"exists": False}
    return {"exists": True, "gid": entry.gr_gid, "members": sorted(entry.gr_mem)}


def probe_command(args):
    import subprocess

    started = time.time()
    try:
        code, out, err = run(["/bin/sh", "-c", args["command"]], timeout=args.get("timeout", 10))
    except subprocess.TimeoutExpired:
        return {"timeout": True, "seconds": time.time() - started}
    return {"exit": code, "stdout": out[-4096:], "stderr": err[-1024:], "seconds": time.time() - started}


def probe_dns(args):
    import socket

    started = time.time()
    try:
        infos = socket.getaddrinfo(args["name"], None, 0, socket.SOCK_STREAM)
    except socket.gaierror as error:
        return {"resolved": False, "error_text": str(error), "seconds": time.time() - started}
    addresses = sorted({info[4][0] for info in infos})
    return {"resolved": True, "addresses": addresses, "seconds": time.time() - started}


def probe_connect(args):
    import socket

    started = time.time()
    try:
        socket.create_connection((args["address"], int(args["port"])), timeout=args.get("timeout", 3)).close()
    except OSError as error:
        return {"connected": False, "error_text": str(error), "seconds": time.time() - started}
    return {"connected": True, "seconds": time.time() - started}


def probe_mysql(args):
    """Server liveness and a few global status values, as root over the unix socket."""
    code, _, err = run(["mysqladmin", "--protocol=socket", "-u", "root", "ping"], timeout=10)
    if code != 0:
        return {"alive": False, "error_text": err.strip()[-300:]}
    code, out, err = run(
        [
            "mysql",
            "--protocol=socket",
            "-u",
            "root",
            "-N",
            "-B",
            "-e",
            "SELECT VARIABLE_NAME, VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS "
            "WHERE VARIABLE_NAME IN ('THREADS_CONNECTED','SLOW_QUERIES','UPTIME',"
            "'MAX_USED_CONNECTIONS') UNION SELECT 'MAX_CONNECTIONS', @@max_connections",
        ],
        timeout=10,
    )
    if code != 0:
        return {"alive": True, "error_text": err.strip()[-300:]}
    status = {}
    for line in out.splitlines():
        name, _, value = line.partition("\t")
        status[name.lower()] = int(value)
    return {"alive": True, "status": status}


def probe_backups(args):
    """Newest complete backup and the last verification under a fleetops backup directory."""
    import json

    destination = args["destination"]
    try:
        names = os.listdir(destination)
    except OSError as error:
        return {"exists": False, "error_text": error.strerror or str(error)}
    ids = sorted(name for name in names if len(name) == 16 and name[8] == "T" and name.endswith("Z"))
    newest = None
    if ids:
        newest = {"id": ids[-1], "mtime": os.stat(os.path.join(destination, ids[-1])).st_mtime}
    verified = last = None
    for name, slot in ((".last-verified.json", "verified"), (".last-verify.json", "last")):
        try:
            with open(os.path.join(destination, name)) as handle:
                value = json.load(handle)
        except (OSError, ValueError):
            value = None
        if slot == "verified":
            verified = value
        else:
            last = value
    return {
        "exists": True,
        "count": len(ids),
        "newest": newest,
        "verified": verified,
        "last_verify": last,
        "now": time.time(),
    }


def probe_device(args):
    """A device node: from ``path``, or from the edge app's config (camera, audio, serial)."""
    path = args.get("path")
    source = "path"
    if not path and args.get("config_key"):
        source = args.get("config_file", "/etc/fleetops-edge/config.json")
        import json

        try:
            with open(source) as handle:
                devices = json.load(handle).get("devices", {})
        except (OSError, ValueError) as error:
            return {"configured": False, "error_text": "cannot read %s: %s" % (source, error)}
        value = devices.get(args["config_key"])
        if isinstance(value, dict):
            value = value.get("port")
        if not value:
            return {"configured": False, "source": source}
        path = value
        if args["config_key"] == "audio" and value.startswith("hw:"):
            card, _, device = value[3:].partition(",")
            path = "/dev/snd/pcmC%sD%sc" % (card, device or "0")
    try:
        info = os.stat(path)
    except OSError:
        return {"configured": True, "path": path, "present": False, "source": source}
    return {
        "configured": True,
        "path": path,
        "present": True,
        "char": stat.S_ISCHR(info.st_mode),
        "readable": os.access(path, os.R_OK),
        "writable": os.access(path, os.W_OK),
        "source": source,
    }


def probe_platform(args):
    """The platform receiver as this gateway's edge app sees it: from its config's server_api,
    ``/health`` (reachable?) and this gateway's record (last heartbeat age), in one probe that the
    platform_api and heartbeat checks share."""
    import json
    import urllib.request

    source = args.get("config_file", "/etc/fleetops-edge/config.json")
    try:
        with open(source) as handle:
            config = json.load(handle)
    except (OSError, ValueError) as error:
        return {"configured": False, "error_text": "cannot read %s: %s" % (source, error)}
    base = (config.get("server_api") or "").rstrip("/")
    if not base:
        return {"configured": False, "source": source}
    result = {"configured": True, "url": base, "gateway": config.get("gateway_name")}
    context = None
    if base.startswith("https"):  # verified exactly as the app's reporter does
        import ssl

        context = ssl.create_default_context(cafile=config.get("server_ca_file"))
    headers = {}
    if config.get("server_token_file"):
        try:
            with open(config["server_token_file"]) as handle:
                headers["Authorization"] = "Bearer " + handle.read().strip()
        except OSError as error:
            result["record_error"] = "cannot read the gateway token: %s" % error
    started = time.time()
    try:
        with urllib.request.urlopen(base + "/health", timeout=args.get("timeout", 5), context=context) as response:
            result["status"] = response.status
    except Exception as error:  # unreachable, refused, HTTP error: all mean "not reachable"
        result["reach_error"] = "%s: %s" % (type(error).__name__, error)
        return result
    result["seconds"] = time.time() - started
    try:
        url = "%s/api/gateways/%s" % (base, result["gateway"])
        request = urllib.request.Request(url, headers=headers)
        with urllib.request.urlopen(request, timeout=args.get("timeout", 5), context=context) as response:
            result["record"] = json.loads(response.read().decode())
    except Exception as error:
        result["record_error"] = "%s: %s" % (type(error).__name__, error)
    return result


def _cpu_times():
    with open("/proc/stat") as handle:
        fields = [int(value) for value in handle.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return sum(fields), idle


def _net_bytes():
    rx = tx = 0
    with open("/proc/net/dev") as handle:
        for line in handle.readlines()[2:]:
            name, _, rest = line.partition(":")
            if name.strip() == "lo":
                continue
            values = rest.split()
            rx, tx = rx + int(values[0]), tx + int(values[8])
    return rx, tx


def probe_sample(args):
    """CPU, memory, disk and network over a window (psutil when present, /proc otherwise); GPU via
    nvidia-smi when it exists."""
    window = float(args.get("window", 10))
    total0, idle0 = _cpu_times()
    rx0, tx0 = _net_bytes()
    time.sleep(window)
    total1, idle1 = _cpu_times()
    rx1, tx1 = _net_bytes()
    busy = 100.0 * (1 - (idle1 - idle0) / max(1, total1 - total0))
    memory = probe_meminfo({})
    disk = os.statvfs("/")
    gpu = None
    for directory in os.environ.get("PATH", "/usr/bin:/bin").split(":"):
        if os.path.exists(os.path.join(directory, "nvidia-smi")):
            code, out, _ = run(
                ["nvidia-smi", "--query-gpu=utilization.gpu,memory.used,memory.total", "--format=csv,noheader,nounits"],
                timeout=10,
            )
            if code == 0 and out.strip():
                util, used, total = (float(v) for v in out.splitlines()[0].split(","))
                gpu = {"util_pct": util, "mem_pct": 100.0 * used / max(1.0, total)}
            break
    return {
        "window_s": window,
        "cpu_pct": busy,
        "cpus": os.cpu_count() or 1,
        "mem_pct": 100.0 * (memory["mem_total"] - memory["mem_available"]) / memory["mem_total"],
        "disk_pct": 100.0 * (disk.f_blocks - disk.f_bfree) / max(1, disk.f_blocks - disk.f_bfree + disk.f_bavail),
        "net_rx_bps": (rx1 - rx0) / window,
        "net_tx_bps": (tx1 - tx0) / window,
        "gpu": gpu,
    }


def probe_inference_log(args):
    """Latency percentiles and confidence distribution from the edge app's JSON-line log."""
    import json

    path = args.get("path", "/var/log/fleetops-edge/inference.jsonl")
    try:
        with open(path, "rb") as handle:
            handle.seek(0, 2)
            size = handle.tell()
            handle.seek(max(0, size - 4 * 1024 * 1024))
            lines = handle.read().decode(errors="replace").splitlines()[-int(args.get("last", 20000)) :]
    except OSError:
        return {"present": False}
    latencies, confidences, below = [], [], 0
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        latencies.append(float(record["latency_ms"]))
        confidences.append(float(record["confidence"]))
        below += bool(record.get("below_threshold"))
    latencies.sort()

    def pct(q):
        return latencies[int(q * (len(latencies) - 1))] if latencies else None

    buckets = [0] * 10
    for value in confidences:
        buckets[min(9, int(value * 10))] += 1
    return {
        "present": True,
        "count": len(latencies),
        "p50": pct(0.5),
        "p95": pct(0.95),
        "p99": pct(0.99),
        "below_threshold_share": below / len(latencies) if latencies else None,
        "confidence_histogram": buckets,
    }


def probe_sudo(args):
    """sudo's own answers: the rule list and, per command, whether sudo permits it."""
    try:
        pwd.getpwnam(args["user"])
    except KeyError:
        return {"user_exists": False, "list": "", "commands": {}}
    code, out, err = run(["sudo", "-n", "-l", "-U", args["user"]])
    if code != 0 and "not allowed to run sudo" not in out + err:
        return {"error": (err.strip() or "sudo -l failed")[:300]}
    import shlex

    commands = {}
    for command in args.get("commands") or []:
        rc, _out, _err = run(["sudo", "-n", "-l", "-U", args["user"]] + shlex.split(command))
        commands[command] = rc == 0
    return {"user_exists": True, "list": out, "commands": commands}


def probe_read(args):
    """A text file's content (for the controller to parse), up to ``max_bytes``."""
    try:
        with open(args["path"], "rb") as handle:
            data = handle.read(args.get("max_bytes", 1024 * 1024))
    except FileNotFoundError:
        return {"exists": False}
    except IsADirectoryError:
        return {"error": "%s is a directory" % args["path"]}
    return {"exists": True, "text": data.decode("utf-8", errors="replace")}


def probe_firmware(args):
    """The A/B firmware state as the gateway tool reports it (``fleetops-fw status``)."""
    import json

    if not os.path.exists(args["tool"]) or not os.path.exists(args["config"]):
        return {"installed": False}
    code, out, err = run(["python3", args["tool"], "--config", args["config"], "status"], timeout=10)
    try:
        status = json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        status = {"ok": False, "error": "exit %s" % code}
    return {"installed": True, "status": status, "stderr": err[-1024:]}


UNIT_PROPERTIES = "LoadState,ActiveState,SubState,UnitFileState,FragmentPath"


def _normalized_calendar(spec):
    code, out, _err = run(["systemd-analyze", "calendar", spec])
    if code != 0:
        return None
    for line in out.splitlines():
        if "Normalized form:" in line:
            return line.split(":", 1)[1].strip()
    return None


def probe_unit(args):
    """``systemctl show`` properties and ``systemctl cat`` text of a unit; for a timer, the
    normalised form of the expected calendar spec and of each OnCalendar= it has."""
    code, out, err = run(["systemctl", "show", args["unit"], "--no-pager", "--property=" + UNIT_PROPERTIES])
    if code != 0:
        return {"error": err.strip() or "systemctl show failed"}
    props = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    _code, text, _err = run(["systemctl", "cat", "--no-pager", args["unit"]])
    result = {"props": props, "text": text}
    if args.get("calendar"):
        result["calendar_normalized"] = _normalized_calendar(args["calendar"])
        seen = []
        for line in text.splitlines():
            if line.strip().startswith("OnCalendar="):
                value = line.split("=", 1)[1].strip()
                if value:
                    seen.append(_normalized_calendar(value) or value)
        result["calendars_normalized"] = seen
    return result


def probe_blob(args):
    """A file's bytes (base64) and sha256, for the controller to judge (a model file)."""
    import base64
    import hashlib

    limit = args.get("max_bytes", 64 * 1024 * 1024)
    try:
        with open(args["path"], "rb") as handle:
            data = handle.read(limit + 1)
    except FileNotFoundError:
        return {"exists": False}
    if len(data) > limit:
        return {"exists": True, "truncated": True}
    return {"exists": True, "sha256": hashlib.sha256(data).hexdigest(), "data": base64.b64encode(data).decode()}


def probe_sql(args):
    """A query with the mysql client as a given user; the password goes in a 0600 option file
    removed at once, never on the command line."""
    import tempfile

    argv = ["mysql", "--batch", "--skip-column-names"]
    path = None
    if args.get("password") is not None:
        fd, path = tempfile.mkstemp(prefix="fleetops-sql-")
        with os.fdopen(fd, "w") as handle:
            # option-file syntax: a double-quoted value, with backslash and quote escaped
            quoted = args["password"].replace("\\", "\\\\").replace('"', '\\"')
            handle.write('[client]\npassword="%s"\n' % quoted)
        argv.insert(1, "--defaults-extra-file=" + path)
    argv += ["--user=" + args["user"]]
    if args.get("host"):
        argv += ["--protocol=tcp", "--host=" + args["host"]]
    if args.get("database"):
        argv += ["--database=" + args["database"]]
    argv += ["--execute=" + args["query"]]
    try:
        code, out, err = run(argv, timeout=30)
    finally:
        if path:
            os.unlink(path)
    return {"exit": code, "stdout": out[-65536:], "stderr": err[-2000:]}


def probe_report(args):
    """A report file the candidate wrote, and the measurement it must agree with."""
    result = probe_read({"path": args["path"], "max_bytes": 1024 * 1024})
    measure = args["measure"]
    try:
        result["measure"] = PROBES[measure["op"]](measure.get("args") or {})
    except Exception as error:
        result["measure"] = {"error": "%s: %s" % (type(error).__name__, error)}
    return result


def probe_ping(args):
    """The host's own ping to a peer; the controller parses the output."""
    import subprocess

    argv = ["ping", "-n", "-c", str(int(args["count"])), "-i", str(args["interval"]), "-W", "2", args["target"]]
    try:
        code, out, err = run(argv, timeout=int(args["count"] * args["interval"]) + 10)
    except FileNotFoundError:
        return {"missing": True}
    except subprocess.TimeoutExpired:
        return {"output": "", "exit": None}
    return {"output": out[-20000:] + err[-500:], "exit": code}


PROBES = {
    "uptime": probe_uptime,
    "load": probe_load,
    "meminfo": probe_meminfo,
    "pressure": probe_pressure,
    "filesystems": probe_filesystems,
    "service": probe_service,
    "process": probe_process,
    "listening": probe_listening,
    "file": probe_file,
    "package": probe_package,
    "user": probe_user,
    "group": probe_group,
    "command": probe_command,
    "dns": probe_dns,
    "connect": probe_connect,
    "mysql": probe_mysql,
    "backups": probe_backups,
    "device": probe_device,
    "sample": probe_sample,
    "inference_log": probe_inference_log,
    "platform": probe_platform,
    "sudo": probe_sudo,
    "read": probe_read,
    "unit": probe_unit,
    "blob": probe_blob,
    "sql": probe_sql,
    "report": probe_report,
    "ping": probe_ping,
    "firmware": probe_firmware,
}


def main(requests):
    sys.stdout.write(repr({"clock": time.time()}) + "\n")
    sys.stdout.flush()
    results = {}
    for request in requests:
        started = time.time()
        try:
            results[request["id"]] = PROBES[request["op"]](request.get("args") or {})
        except Exception as error:  # one broken probe must not hide the others
            results[request["id"]] = {"error": "%s: %s" % (type(error).__name__, error)}
        results[request["id"]]["_seconds"] = time.time() - started
    cpu = os.times()  # what this sweep cost the host, children (systemctl ...) included
    sys.stdout.write(
        repr({"results": results, "cpu_s": cpu.user + cpu.system + cpu.children_user + cpu.children_system}) + "\n"
    )
    sys.stdout.flush()


if __name__ == "__main__":
    main(REQUESTS)  # type: ignore[name-defined]  # noqa: F821 - a Python literal the controller puts before this file
