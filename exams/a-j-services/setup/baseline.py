"""Every a-j-services seat before the exam: a plain Debian server with the tools a junior
operator expects (no nginx, no vsftpd, no git: installing them is the exam)."""

from pyinfra.operations import apt

apt.packages(
    name="Baseline tools", packages=["ca-certificates", "less", "nano", "openssh-server"], update=True, cache_time=3600
)
