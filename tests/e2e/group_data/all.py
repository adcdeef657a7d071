"""Group data of the end-to-end fleet: the demo's users plus a canary secret."""

from fleetops.lab.keys import controller_public_keys

CANARY_HASH = "$6$fleetopscanary$CanaryHashNeverLogged0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUV"

timezone = "Europe/Berlin"
packages = ["curl"]
groups = [{"name": "ops"}, {"name": "students"}]
users = [
    {"name": "ops", "groups": ["ops"], "authorized_keys": controller_public_keys()},
    {"name": "student", "groups": ["students"], "authorized_keys": controller_public_keys()},
    {"name": "leaver", "authorized_keys": controller_public_keys(), "locked": True, "expired": True},
    {"name": "canary", "password_hash": CANARY_HASH},
]
sudo_rules = [
    {"name": "ops", "who": "%ops", "nopasswd": True},
    {"name": "students", "who": "%students", "commands": ["/usr/bin/journalctl"]},
]
devenv = {"python": True, "git": True}
