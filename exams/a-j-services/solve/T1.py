"""Reference solution of T1 (used by selftest only, never copied to seats)."""

from pyinfra import host
from pyinfra.operations import files, server

values = host.data.exam_values
user, group = values["dev_user"], values["dev_group"]
server.group(name=f"group {group}", group=group)
server.user(name=f"user {user}", user=user, shell="/bin/bash", groups=[group], create_home=True)
files.put(
    name="sudo rule",
    src=__import__("io").StringIO(f"{user} ALL=(root) NOPASSWD: /usr/bin/systemctl restart nginx\n"),
    dest="/etc/sudoers.d/t1-dev",
    mode="440",
)
files.directory(name="ssh dir", path=f"/home/{user}/.ssh", user=user, group=user, mode="700")
files.line(name="authorized key", path=f"/home/{user}/.ssh/authorized_keys", line=values["t1_public_key"])
files.file(name="key perms", path=f"/home/{user}/.ssh/authorized_keys", user=user, group=user, mode="600")
