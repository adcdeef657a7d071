"""Group data for the end-to-end platform receiver (e2e2), with canary passwords that must never leak."""

CANARY_PLATFORM_DB_PASSWORD = "CanaryPlatformDb-7b3e90"
CANARY_ADMIN_PASSWORD = "CanaryPlatformAdmin-51c2d8"

platform = {
    "port": 8600,
    "db_password": CANARY_PLATFORM_DB_PASSWORD,
    "admins": [{"name": "admin", "password": CANARY_ADMIN_PASSWORD}],
    "gateways": ["spare-gw"],
    "event_labels": [{"label": "7", "severity": "warning", "description": "digit seven"}],
}
