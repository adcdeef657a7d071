"""Group data for the platform receiver (keys and defaults: roles/platform_spec.py).

It runs beside the MySQL role on the same host and registers every host of the `gateway` group.
Passwords here are lab values; on real fleets read them from the environment or a vault, e.g.
``fleetops.secrets.Secret.from_env("PLATFORM_DB_PASSWORD")``.
"""

platform = {
    "port": 8600,
    "db_password": "lab-platform-db-password",
    "admins": [{"name": "admin", "password": "lab-platform-admin-password"}],
    "event_labels": [
        {"label": "7", "severity": "warning", "description": "digit seven confirmed (lab example)"},
        {"label": "face", "severity": "info", "description": "a face in front of the camera"},
        {"label": "speech", "severity": "info", "description": "somebody is speaking"},
    ],
}
