"""Group data for database servers (keys and defaults: roles/mysql_spec.py).

Passwords here are lab values; on real fleets read them from the environment or a vault, e.g.
``fleetops.secrets.Secret.from_env("SHOP_DB_PASSWORD")``.
"""

mysql = {
    "bind_address": "127.0.0.1",
    "settings": {
        "max_connections": 100,
        "innodb_buffer_pool_size": "128M",
        "slow_query_log": True,
        "long_query_time": 2,
    },
    "databases": [{"name": "shop"}],
    "users": [
        {"name": "shop", "host": "localhost", "password": "lab-shop-password", "privileges": {"shop": ["ALL"]}},
        {"name": "report", "host": "localhost", "password": "lab-report-password", "privileges": {"shop": ["SELECT"]}},
    ],
    "backup": {
        "schedule": "*-*-* 02:30:00",
        "password": "lab-backup-password",
        "keep_last": 3,
        "keep_daily": 7,
        "keep_weekly": 4,
        "keep_monthly": 6,
    },
}
