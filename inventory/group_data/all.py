"""Group data for every host of the default lab (keys and defaults: roles/spec.py)."""

from fleetops.lab.keys import controller_public_keys

timezone = "Asia/Shanghai"

packages = ["curl", "less", "vim-tiny"]

groups = [
    {"name": "ops"},
    {"name": "students"},
]

users = [
    # The operator: logs in with the lab controller's key, full sudo.
    {"name": "ops", "groups": ["ops"], "authorized_keys": controller_public_keys()},
    # An exam candidate: password login for lab exercises (hash of "fleetops-lab"), limited sudo.
    {
        "name": "student",
        "groups": ["students"],
        "password_hash": "$6$cR04BDEqIywKnYBZ$y43lr289/q26zdZPI40gquNQxu0hrt.wrpS5b/p13tvsOdxgkCMbTTo5cFZLQRsuJyziV7X3lOD.iZmu40Cl11",
        "authorized_keys": controller_public_keys(),
    },
    # A leaver: kept for audit, but locked and expired.
    {"name": "leaver", "locked": True, "expired": True},
]

sudo_rules = [
    {"name": "ops", "who": "%ops", "nopasswd": True},
    # students read the newest log lines; bare journalctl would also let them rotate or vacuum the logs
    {
        "name": "students",
        "who": "%students",
        "commands": ["/usr/bin/systemctl status *", "/usr/bin/journalctl --no-pager -n 200"],
    },
]

sshd = {"permit_root_login": "prohibit-password", "password_authentication": True}

devenv = {"python": True, "git": True, "java": False}

# No raised load limits: lab hosts are containers, so `load` judges each host's own CPU pressure
# (its cgroup's PSI), not the shared kernel's load average (docs/checks.md).
