"""Where the edge app lives on a gateway: every path and unit name, defined once.

The edge role installs this layout; the checks, ``fleetops edge`` and ``fleetops model deploy``
read it from here (the probe script, which runs standalone on hosts, is given the config path).
"""

ROOT = "/opt/fleetops-edge"
ETC = "/etc/fleetops-edge"
CONFIG = f"{ETC}/config.json"
SERVER_TOKEN, SERVER_CA, INFER_TOKEN = f"{ETC}/server.token", f"{ETC}/server-ca.pem", f"{ETC}/infer.token"
LOG_DIR = "/var/log/fleetops-edge"
UNIT = USER = "fleetops-edge"
