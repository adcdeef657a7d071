"""The backup agent: the one program on a host that makes, ships, prunes and restores backups.

Installed by ``roles/backup.py`` as a package under ``/usr/local/lib/fleetops-backup`` and run by
python3 alone (no fleetops on the host) through ``/usr/local/sbin/fleetops-backup``. The same
package serves both ends: on database and application hosts it backs up (``run``, ``ship``,
``restore``, ``verify``, ``prune``); on a backup host it is the SSH forced command of the
restricted store account (``store-serve``) and the store's own pruner (``store-prune``).
Every subcommand prints JSON lines on stdout; errors are one line on stderr and exit 1.
Standard library only, so the modules also import on the controller, where the unit tests run
them on plain directories.
"""
