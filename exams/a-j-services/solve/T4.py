"""Reference solution of T4: an nginx site on the candidate's port and root."""

from io import StringIO

from pyinfra import host
from pyinfra.operations import apt, files, systemd

values = host.data.exam_values
site, port = values["site"], values["web_port"]
apt.packages(name="nginx", packages=["nginx"], update=True, cache_time=3600)
files.directory(name="site root", path=f"/var/www/{site}")
files.put(name="index", src=StringIO(f"<h1>{site}</h1>\n"), dest=f"/var/www/{site}/index.html")
conf = files.put(
    name="site file",
    src=StringIO(f"server {{\n    listen {port};\n    root /var/www/{site};\n    index index.html;\n}}\n"),
    dest=f"/etc/nginx/sites-enabled/{site}",
)
systemd.service(name="nginx running", service="nginx", running=True, enabled=True, reloaded=conf.did_change)
