"""Group data for the end-to-end database host, with canary passwords that must never leak."""

CANARY_DB_PASSWORD = "CanaryDbPassword-4f1c7a"
CANARY_BACKUP_PASSWORD = "CanaryBackupPw-9d2e51"

mysql = {
    "databases": [{"name": "shop"}],
    "users": [
        {"name": "shop", "host": "localhost", "password": CANARY_DB_PASSWORD, "privileges": {"shop": ["ALL"]}},
        {
            "name": "report",
            "host": "localhost",
            "password": "report-password-e2e",
            "privileges": {"shop": ["SELECT", "SHOW VIEW"]},
        },
    ],
    "backup": {
        "schedule": "*-*-* *:*:00",  # every minute, so a test can watch the timer fire
        "password": CANARY_BACKUP_PASSWORD,
        "keep_last": 50,  # the minutely timer must not prune what a test still uses
    },
}

backup_store = "e2e3"  # off-host copies (roles/backup.py makes e2e3 an append-only store)
