"""Group data for the end-to-end gateway; the model directory is made by the session's fixture."""

import os

edge = {
    "model_dir": os.environ.get("FLEETOPS_E2E_MODEL_DIR", "/nonexistent/fleetops-e2e-model"),
    "port": 8500,
    "input_kind": "image",
    "image_size": [8, 8],
    "confidence_threshold": 0.6,
    "devices": {"serial": {"port": "/dev/ttyS0", "baud": 115200, "parity": "N"}},
}
