"""Reference solution of T2."""

from pyinfra.operations import apt

apt.packages(name="git and venv", packages=["git", "python3-venv"], update=True, cache_time=3600)
