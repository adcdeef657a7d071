"""Group data for the end-to-end gateways (e2e1, e2e3); the model directory is made by the session's
fixture. No input constraints, so every bundled model can be deployed to them in turn."""

import os

edge = {
    "model_dir": os.environ.get("FLEETOPS_E2E_MODEL_DIR", "/nonexistent/fleetops-e2e-model"),
    "port": 8500,
    "platform_host": "e2e2",
    "heartbeat_interval": 1,
    "confidence_threshold": 0.6,
    "confirm_frames": 3,
    "devices": {"serial": {"port": "/dev/ttyS0", "baud": 115200, "parity": "N"}},
}
