"""`fleetops exam provision`: each seat host gets its candidate's account, locked and expired
until `exam start`, with sudo when the exam gives it and password logins for that user only.

Host data (written by the exam engine into the sitting's private inventory): ``exam_user``,
``exam_password_hash`` (a crypt hash, a Secret), ``exam_sudo``, ``exam_shell``.
"""

from pyinfra import host
from pyinfra.operations import server

from fleetops.operations.files import managed_file
from fleetops.operations.users import account_state, password_hash
from fleetops.render import render
from fleetops.roles.packages import install
from fleetops.roles.spec import SudoRule
from fleetops.secrets import Secret

user = host.data.exam_user
server.user(name=f"Candidate account {user}", user=user, shell=host.data.exam_shell, create_home=True)
password_hash(name=f"Password of {user}", user=user, hash=Secret(str(host.data.exam_password_hash)))
account_state(name=f"Lock {user} until the exam starts", user=user, locked=True, expired=True)
if host.data.exam_sudo:
    install(["sudo"], name="Install sudo")
    rule = SudoRule(name="exam-candidate", who=user)
    managed_file(
        name=f"sudo for {user}",
        path="/etc/sudoers.d/fleetops-exam-candidate",
        content=render("sudo/rule.j2", rule=rule),
        mode="440",
        validate="visudo -cf {}",
        backup=False,
    )
dropin = managed_file(
    name=f"Password logins for {user} only",
    path="/etc/ssh/sshd_config.d/10-fleetops-exam.conf",
    content=f"# Managed by fleetops exam: the candidate logs in with the password on their slip\nMatch User {user}\n    PasswordAuthentication yes\n",
    validate_installed="sshd -t",
    backup=False,
)
server.service(name="Reload sshd", service="ssh", reloaded=True, running=True, _if=dropin.did_change)
