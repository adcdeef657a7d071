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

MODELS = f"{ROOT}/models"
CURRENT_MODEL = f"{MODELS}/current"
# host data fleetops model deploy gives its tasks (like `pyinfra --data`)
MODEL_DIR_KEY = "fleetops_model_dir"  # the controller's model directory to release
PREVIOUS_KEY = "fleetops_model_previous"  # {gateway: the model directory it served before}
SWITCH_STEP = "Switch models/current to the new model"


def model_destination(model_dir, manifest) -> str:
    """Where a model released by ``fleetops model deploy`` goes: the manifest (golden inputs,
    labels) is part of what is served, so its hash is part of the name."""
    from fleetops.models.manifest import MANIFEST_FILE, sha256_file

    return f"{MODELS}/{manifest.name}-{manifest.sha256[:12]}-{sha256_file(model_dir / MANIFEST_FILE)[:8]}"
