"""Try to install an invalid sudoers file; visudo must reject it before it replaces anything."""

from fleetops.operations.files import managed_file

managed_file(
    name="Broken sudo rule",
    path="/etc/sudoers.d/fleetops-ops",
    content="%ops ALL=(ALL) NOPASSWD ALL this is not sudoers syntax\n",
    mode="440",
    validate="visudo -cf {}",
    backup=False,
)
