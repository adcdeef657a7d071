"""Reference solution of T3: vsftpd, no anonymous logins, a chrooted local user who can upload."""

from io import StringIO

from pyinfra import host
from pyinfra.operations import apt, files, server, systemd

from fleetops.exam.provision import crypt_hash
from fleetops.operations.users import password_hash
from fleetops.secrets import Secret

values = host.data.exam_values
user = values["ftp_user"]
apt.packages(name="vsftpd", packages=["vsftpd"], update=True, cache_time=3600)
config = files.put(
    name="vsftpd.conf",
    src=StringIO(
        "listen=YES\nlisten_ipv6=NO\nanonymous_enable=NO\nlocal_enable=YES\nwrite_enable=YES\n"
        "chroot_local_user=YES\nallow_writeable_chroot=NO\npam_service_name=vsftpd\n"
        "pasv_enable=YES\npasv_min_port=30000\npasv_max_port=30100\nsecure_chroot_dir=/var/run/vsftpd/empty\n"
    ),
    dest="/etc/vsftpd.conf",
)
server.user(name=f"ftp user {user}", user=user, shell="/bin/bash", create_home=True)
# the password is set from a crypt hash over SFTP, never on a command line
password_hash(name=f"password of {user}", user=user, hash=crypt_hash(Secret(values["ftp_password"])))
files.directory(name="home not writable (chroot)", path=f"/home/{user}", user="root", group="root", mode="755")
files.directory(name="upload dir", path=f"/home/{user}/upload", user=user, group=user, mode="755")
systemd.service(name="vsftpd running", service="vsftpd", running=True, enabled=True, restarted=config.did_change)
