"""``fleetops backup``: drive the backup script the MySQL role installs, on every database host."""
