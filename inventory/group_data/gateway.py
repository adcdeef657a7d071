"""Group data for AI edge gateways (keys and defaults: roles/edge_spec.py).

The model directory is made by `fleetops model convert --model digits --out models/digits`
(`make demo` does it); paths are relative to where fleetops runs (the repository root).
"""

edge = {
    "model_dir": "models/digits",
    "port": 8500,
    "platform_host": "db1",  # heartbeats and detection events go to the platform receiver there
    "heartbeat_interval": 5,
    "input_kind": "image",
    "image_size": [8, 8],
    "channels": 1,
    "confidence_threshold": 0.6,
    "confirm_frames": 3,
    "event_labels": ["7"],  # a confirmed "7" is a detection event (lab example)
    "devices": {"camera": "/dev/video0", "serial": {"port": "/dev/ttyS0", "baud": 115200}},
}
