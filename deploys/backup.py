"""Application backups and backup stores: `fleetops deploy deploys/backup.py`.

Hosts with `app_backup` get the backup agent and a timer per app; hosts named as `backup_store`
become append-only stores. Database backups come with `deploys/mysql.py` (group-data key
`mysql.backup`).
"""

from fleetops.roles.backup import app_backups, backup_store

app_backups()
backup_store()
