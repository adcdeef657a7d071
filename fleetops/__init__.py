"""fleetops: declarative pyinfra deploys, a local lab fleet and ops checks behind one click CLI.

The core engine lives here (lab fleet, inventory loading, deploy runner, run records); the
repository's `cli/`, `roles/`, `checks/` and `templates/` folders install as the sub-packages
`fleetops.cli`, `fleetops.roles`, `fleetops.checks` and `fleetops.templates`.
"""

__version__ = "0.1.0"
