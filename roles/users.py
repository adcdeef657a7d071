"""OS groups and users: shell, home, groups, authorized keys, password hash, lock and expiry."""

from __future__ import annotations

from pyinfra.api import deploy
from pyinfra.operations import server

from fleetops.operations.users import account_state, password_hash
from fleetops.roles.spec import BaselineData


@deploy("Users and groups")
def users(data: BaselineData) -> None:
    """Converge groups first (users reference them), then each user."""
    for group in data.groups:
        server.group(name=f"Group {group.name}", group=group.name, gid=group.gid, system=group.system)
    for user in data.users:
        if not user.present:
            server.user(name=f"Remove user {user.name}", user=user.name, present=False)
            continue
        server.user(
            name=f"User {user.name}",
            user=user.name,
            uid=user.uid,
            shell=user.shell,
            home=user.home_dir,
            group=user.primary_group,
            # A user's primary group is not a supplementary group; listing it would make
            # pyinfra re-run usermod on every converge.
            groups=[g for g in user.groups if g != (user.primary_group or user.name)],
            public_keys=list(user.authorized_keys),
            delete_keys=True,
            create_home=True,
        )
        if user.password_hash is not None:
            password_hash(name=f"Password of {user.name}", user=user.name, hash=user.password_hash)
        account_state(name=f"Account state of {user.name}", user=user.name, locked=user.locked, expired=user.expired)
