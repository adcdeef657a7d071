"""Reference solution of T2: the config from the template with the candidate's values."""

import json
from io import StringIO

from pyinfra import host
from pyinfra.operations import files

values = host.data.exam_values
config = {
    "listen_host": "0.0.0.0",
    "listen_port": int(values["app_port"]),
    "gateway_name": values["gateway_name"],
    "server_api": values["server_api"],
    "model_path": f"/opt/fleetops-edge/models/{values['model_dir']}",
    "threads": 1,
    "confidence_threshold": 0.5,
    "log_path": "/var/log/fleetops-edge/inference.jsonl",
}
files.put(
    name="config.json",
    src=StringIO(json.dumps(config, indent=2) + "\n"),
    dest="/etc/fleetops-edge/config.json",
    mode="640",
    group="fleetops-edge",
)
