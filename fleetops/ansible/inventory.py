"""Read an Ansible inventory (INI, YAML, a folder; ranges, children, group_vars/, host_vars/) into
fleetops hosts, through ``ansible-inventory --list`` in a subprocess.

Ansible's own precedence merges the variables; fleetops then:

* decrypts inline ``!vault`` values (they come back as ``{"__ansible_vault": ...}``) and, to know
  what to redact, the vault-encrypted files under group_vars/ and host_vars/ (ansible-inventory
  returns their values already decrypted): every decrypted string is registered as a secret;
* resolves plain variable references (``{{ name }}``, ``{{ inventory_hostname }}``) and refuses
  any other template: nothing that could run a lookup on the controller is evaluated;
* maps ``ansible_host/port/user/password/ssh_private_key_file/become*`` and ``ansible_connection``
  onto pyinfra connection data.

The vault password travels as a file path on the command line, never as a value (``ps``). The
``ansible-inventory`` output is cached by the content hash of every inventory file, and only when
no vault file was involved (a decrypted value is never written to disk).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from fleetops.ansible import vault
from fleetops.errors import EnvironmentProblem, InputError
from fleetops.fileutil import atomic_write_text, private_dir
from fleetops.paths import cache_dir
from fleetops.secrets import redact, register

PASSWORD_FILE_ENV = "FLEETOPS_VAULT_PASSWORD_FILE"
TIMEOUT = 300
EXPRESSION = re.compile(r"\{\{\s*(.*?)\s*\}\}")
REFERENCE = re.compile(r"^[A-Za-z_]\w*$")
TRUE = {"true", "yes", "on", "1", "y"}
FALSE = {"false", "no", "off", "0", "n"}
DROPPED = {"ansible_python_interpreter", "ansible_facts", "ansible_connection", "ansible_become_method"}
RENAMED = {
    "ansible_host": "ssh_hostname",
    "ansible_ssh_host": "ssh_hostname",
    "ansible_port": "ssh_port",
    "ansible_ssh_port": "ssh_port",
    "ansible_user": "ssh_user",
    "ansible_ssh_user": "ssh_user",
    "ansible_password": "ssh_password",
    "ansible_ssh_pass": "ssh_password",
    "ansible_ssh_private_key_file": "ssh_key",
    "ansible_become_password": "_sudo_password",
    "ansible_become_pass": "_sudo_password",
}


@dataclass
class AnsibleHost:
    name: str  # the pyinfra host name (``@local`` for ansible_connection=local)
    data: dict
    groups: list[str]


def is_ansible_source(path: Path) -> bool:
    """Anything but a pyinfra Python inventory: an INI or YAML file, or an inventory folder."""
    return path.is_dir() or path.suffix.lower() != ".py"


def load(source: Path, password_file: Path | None = None) -> list[AnsibleHost]:
    """Every host of the Ansible inventory ``source`` with its merged, decrypted, mapped data."""
    password_file = password_file or (
        Path(os.environ[PASSWORD_FILE_ENV]) if os.environ.get(PASSWORD_FILE_ENV) else None
    )
    password = vault.read_password(password_file) if password_file else None
    files = _inventory_files(source)
    vault_files = [path for path in files if vault.is_vault(_head(path))]
    if vault_files and password is None:
        raise InputError(f"{vault_files[0]} is vault-encrypted: give --vault-password-file FILE")
    for path in vault_files:
        _register_vault_file(path, password or b"")
    listed = _listed(source, files, password_file, cacheable=not vault_files)
    hostvars = listed.get("_meta", {}).get("hostvars", {})
    memberships = _groups(listed)
    hosts = []
    for name in sorted(set(hostvars) | set(memberships)):
        decrypted = _decrypt_inline(hostvars.get(name, {}), password, f"{source}: host {name}")
        assert isinstance(decrypted, dict)
        magic = {"inventory_hostname": name, "inventory_hostname_short": name.split(".")[0]}
        raw = _resolve(decrypted, {**decrypted, **magic}, name)
        hosts.append(AnsibleHost(*_mapped(name, raw), sorted(memberships.get(name, set()))))
    if not hosts:
        raise InputError(f"{source}: the Ansible inventory has no hosts")
    return hosts


def _head(path: Path) -> str:
    try:
        with path.open(encoding="utf-8", errors="replace") as handle:
            return handle.read(64)
    except OSError:
        return ""


def _inventory_files(source: Path) -> list[Path]:
    """The inventory itself and every group_vars/host_vars file next to it (what ansible reads)."""
    if not source.exists():
        raise InputError(f"inventory not found: {source}")
    base = source if source.is_dir() else source.parent
    found = [source] if source.is_file() else sorted(p for p in source.iterdir() if p.is_file())
    for folder in ("group_vars", "host_vars"):
        if (base / folder).is_dir():
            found.extend(sorted(p for p in (base / folder).rglob("*") if p.is_file()))
    return found


def _register_vault_file(path: Path, password: bytes) -> None:
    import yaml

    plaintext = vault.decrypt(path.read_text(encoding="utf-8"), password, where=str(path))
    try:
        data = yaml.safe_load(plaintext)
    except yaml.YAMLError:
        raise InputError(f"{path}: the decrypted vault file is not YAML") from None
    _register_leaves(data)


def _register_leaves(data: object) -> None:
    if isinstance(data, str):
        register(data)
    elif isinstance(data, dict):
        for value in data.values():
            _register_leaves(value)
    elif isinstance(data, list):
        for value in data:
            _register_leaves(value)
    elif isinstance(data, (int, float)) and not isinstance(data, bool):
        register(str(data))


def _listed(source: Path, files: list[Path], password_file: Path | None, cacheable: bool) -> dict:
    tool = shutil.which(
        "ansible-inventory", path=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    )
    if tool is None:
        raise EnvironmentProblem(
            "Ansible inventories need ansible-core (ansible-inventory): pip install 'fleetops[ansible]'"
        )
    key = hashlib.sha256()
    for path in files:
        key.update(str(path.resolve()).encode() + b"\0" + path.read_bytes() + b"\0")
    cached = cache_dir() / "ansible-inventory" / f"{key.hexdigest()}.json"
    if cacheable and cached.is_file():
        return json.loads(cached.read_text())
    argv = [tool, "-i", str(source.resolve()), "--list"]
    if password_file is not None:
        argv += ["--vault-password-file", str(password_file.resolve())]
    with tempfile.TemporaryDirectory(prefix="fleetops-ansible-") as home:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")},
            "ANSIBLE_HOME": home,  # ansible-core writes nothing into the user's ~/.ansible
            "ANSIBLE_LOCAL_TEMP": home,
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_DEPRECATION_WARNINGS": "False",
            "ANSIBLE_INVENTORY_UNPARSED_FAILED": "True",  # a broken file is an error, not an empty inventory
        }
        try:
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT, cwd=home, env=env)
        except subprocess.TimeoutExpired:
            raise InputError(f"{source}: ansible-inventory took longer than {TIMEOUT}s") from None
    if proc.returncode != 0:
        raise InputError(f"{source}: ansible-inventory failed: {_reason(proc.stderr)}")
    try:
        listed = json.loads(proc.stdout)
    except ValueError:
        raise InputError(f"{source}: ansible-inventory printed no JSON") from None
    if cacheable:
        private_dir(cached.parent)
        atomic_write_text(cached, proc.stdout)
    return listed


def _reason(stderr: str) -> str:
    """The most specific line: a parser's own complaint, else ansible's error line."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    parse = [line.split(": ", 2)[-1] for line in lines if line.startswith("[WARNING]: Failed to parse")]
    errors = [line for line in lines if "ERROR" in line]
    text = parse[0] if parse else (errors[0] if errors else (lines[0] if lines else "no message"))
    return redact(text.replace("[ERROR]: ", "").replace("ERROR! ", ""))[:300]


def _groups(listed: dict) -> dict[str, set[str]]:
    """host -> every group it is in, through children (``all`` and ``ungrouped`` left out)."""
    memberships: dict[str, set[str]] = {}

    def walk(group: str, ancestors: tuple[str, ...]) -> None:
        if group in ancestors:
            return
        node = listed.get(group, {})
        chain = (*ancestors, group)
        for host in node.get("hosts", []):
            memberships.setdefault(host, set()).update(g for g in chain if g not in ("all", "ungrouped"))
        for child in node.get("children", []):
            walk(child, chain)

    walk("all", ())
    return memberships


def _decrypt_inline(data: object, password: bytes | None, where: str) -> object:
    if isinstance(data, dict):
        if set(data) == {"__ansible_vault"}:
            if password is None:
                raise InputError(f"{where}: holds an inline !vault value: give --vault-password-file FILE")
            plaintext = vault.decrypt(data["__ansible_vault"], password, where=where)
            register(plaintext)
            return plaintext
        return {key: _decrypt_inline(value, password, f"{where}.{key}") for key, value in data.items()}
    if isinstance(data, list):
        return [_decrypt_inline(value, password, where) for value in data]
    return data


def _resolve(value: object, variables: dict, host: str, key: str = "", depth: int = 0) -> object:
    """Plain variable references resolved from the host's own variables; any other template refused."""
    if isinstance(value, dict):
        return {k: _resolve(v, variables, host, str(k), depth) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, variables, host, key, depth) for v in value]
    if not isinstance(value, str) or "{{" not in value:
        return value
    if depth > 10:
        raise InputError(f"host {host}: {key} refers to itself through templates")

    def lookup(expression: str) -> object:
        if not REFERENCE.match(expression):
            raise InputError(
                f"host {host}: {key} holds the template {{{{ {expression[:60]} }}}}; fleetops resolves only "
                "plain variable references (nothing that could run on the controller)"
            )
        if expression not in variables:
            raise InputError(f"host {host}: {key} refers to {expression!r}, which the inventory does not define")
        return _resolve(variables[expression], variables, host, expression, depth + 1)

    whole = EXPRESSION.fullmatch(value.strip())
    if whole:
        return lookup(whole.group(1))  # a lone reference keeps its type (a port stays a number)
    return EXPRESSION.sub(lambda match: str(lookup(match.group(1))), value)


def _boolean(value: object, host: str, key: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise InputError(f"host {host}: {key}={value!r} is not a boolean")


def _mapped(name: str, raw: object) -> tuple[str, dict]:
    """The pyinfra host name and data for one Ansible host."""
    assert isinstance(raw, dict)
    data: dict = {}
    for key, value in raw.items():
        if key in RENAMED:
            data[RENAMED[key]] = value
        elif key not in DROPPED and not key.startswith("ansible_"):
            data[key] = value
        elif key in ("ansible_ssh_common_args", "ansible_ssh_extra_args"):
            data.update(_ssh_args(name, key, str(value)))
        elif key.startswith("ansible_") and key not in DROPPED and key not in ("ansible_become", "ansible_become_user"):
            raise InputError(f"host {name}: {key} has no pyinfra equivalent; fleetops refuses to drop it silently")
    if "ssh_port" in data:
        try:
            data["ssh_port"] = int(data["ssh_port"])
        except (TypeError, ValueError):
            raise InputError(f"host {name}: ansible_port={data['ssh_port']!r} is not a port number") from None
    for secret_key in ("ssh_password", "_sudo_password"):
        if secret_key in data:
            register(str(data[secret_key]))
    if "ansible_become" in raw and _boolean(raw["ansible_become"], name, "ansible_become"):
        method = str(raw.get("ansible_become_method", "sudo"))
        if method not in ("sudo", "su", "doas"):
            raise InputError(f"host {name}: ansible_become_method={method!r} (fleetops knows sudo, su, doas)")
        data[f"_{method}"] = True
        if raw.get("ansible_become_user"):
            data[f"_{method}_user"] = str(raw["ansible_become_user"])
    connection = str(raw.get("ansible_connection", "ssh"))
    if connection == "local":
        return "@local", data
    if connection == "docker":
        return f"@docker/{raw.get('ansible_host', name)}", {k: v for k, v in data.items() if k != "ssh_hostname"}
    if connection not in ("ssh", "smart", "paramiko"):
        raise InputError(
            f"host {name}: ansible_connection={connection!r} is not one fleetops can use (ssh, local, docker)"
        )
    return name, data


def _ssh_args(name: str, key: str, value: str) -> dict:
    """``-o UserKnownHostsFile=...``/``-o StrictHostKeyChecking=...``; anything else is refused."""
    out: dict = {}
    words = shlex.split(value)
    index = 0
    while index < len(words):
        word = words[index]
        option = (
            words[index + 1]
            if word == "-o" and index + 1 < len(words)
            else (word[2:] if word.startswith("-o") else None)
        )
        if option is None:
            raise InputError(
                f"host {name}: {key} has {word!r}; fleetops maps only -o UserKnownHostsFile/StrictHostKeyChecking"
            )
        index += 2 if word == "-o" else 1
        option_name, _, option_value = option.partition("=")
        if option_name == "UserKnownHostsFile":
            out["ssh_known_hosts_file"] = option_value
        elif option_name == "StrictHostKeyChecking":
            out["ssh_strict_host_key_checking"] = option_value.lower()
        else:
            raise InputError(
                f"host {name}: {key} sets {option_name}; fleetops maps only UserKnownHostsFile/StrictHostKeyChecking"
            )
    return out
