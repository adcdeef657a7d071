"""Edge app config (template + the app's own validation), bundle key, smoke judgement."""

import json
import subprocess
import sys

import pytest

from fleetops.checks.registry import CHECK_LIST
from fleetops.checks.result import Status
from fleetops.edge import app
from fleetops.edge.bundle import bundle_key
from fleetops.render import render
from fleetops.roles.edge_spec import EdgeData


def test_template_renders_a_config_the_app_accepts(tmp_path):
    spec = EdgeData.model_validate(
        {
            "edge": {
                "model_dir": "models/digits",
                "input_kind": "image",
                "image_size": [8, 8],
                "devices": {"camera": "/dev/video0", "serial": {"port": "/dev/ttyUSB0", "baud": 115200, "parity": "E"}},
            }
        }
    ).edge
    text = render(
        "edge/config.json.j2",
        edge=spec,
        gateway_name="gw1",
        server_api="https://10.0.0.1:8600",
        model_path="/opt/fleetops-edge/models/x",
        listen_host="10.0.0.2",
        server_token_file="/etc/fleetops-edge/server.token",
        server_ca_file="/etc/fleetops-edge/ca.pem",
        infer_token_file=None,
    )
    config = app.Config.model_validate(json.loads(text))
    assert config.devices.serial.parity == "E" and config.image_size == [8, 8]
    assert config.listen_host == "10.0.0.2" and config.server_token_file.endswith("server.token")
    path = tmp_path / "config.json"
    path.write_text(text)
    proc = subprocess.run(
        [sys.executable, app.__file__, "--check-config", "--config", str(path)], capture_output=True, text=True
    )
    assert proc.returncode == 0 and "ok" in proc.stdout


@pytest.mark.parametrize(
    "change, message",
    [
        ({"listen_port": 70000}, "listen_port"),
        ({"image_size": [8]}, "image_size"),
        ({"std": [0.5, 0]}, "std"),
        ({"server_api": "ftp://x"}, "server_api"),
        ({"devices": {"serial": {"port": "/dev/ttyS0", "parity": "X"}}}, "parity"),
        ({"model_path": "relative"}, "model_path"),
    ],
)
def test_bad_config_is_one_line_and_non_zero(tmp_path, change, message):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"model_path": "/opt/m", **change}))
    proc = subprocess.run(
        [sys.executable, app.__file__, "--check-config", "--config", str(path)], capture_output=True, text=True
    )
    assert proc.returncode != 0
    assert len(proc.stderr.strip().splitlines()) == 1 and message in proc.stderr


def test_bundle_key_is_stable():
    assert bundle_key() == bundle_key() and len(bundle_key()) == 12


def test_inference_judgement():
    check = CHECK_LIST.validate_python([{"kind": "inference"}])[0]
    assert check.judge({"not_ready": "model not loaded"}).status == Status.CRITICAL
    assert (
        check.judge(
            {"model": "m v1", "problems": ["golden 1: label '3', expected '8'"], "p50": 1, "p95": 2, "goldens": 5}
        ).status
        == Status.CRITICAL
    )
    ok = check.judge({"model": "m v1", "problems": [], "p50": 1.0, "p95": 2.0, "goldens": 5})
    assert ok.status == Status.OK and ok.value == 2.0
    assert (
        check.judge({"model": "m v1", "problems": [], "p50": 1.0, "p95": 80.0, "goldens": 5}).status == Status.WARNING
    )


def test_device_judgement():
    camera = CHECK_LIST.validate_python([{"kind": "device", "device": "camera"}])[0]
    assert camera.judge({"configured": False, "source": "/etc/x"}).status == Status.OK
    absent = camera.judge({"configured": True, "path": "/dev/video0", "present": False, "source": "x"})
    assert absent.status == Status.CRITICAL and absent.message == "/dev/video0 absent"
    optional = CHECK_LIST.validate_python([{"kind": "device", "device": "camera", "absent": "warning"}])[0]
    assert optional.judge({"configured": True, "path": "/dev/video0", "present": False}).status == Status.WARNING
    assert (
        camera.judge(
            {
                "configured": True,
                "path": "/dev/video0",
                "present": True,
                "char": True,
                "readable": True,
                "writable": False,
            }
        ).status
        == Status.OK
    )
    assert camera.judge({"error_text": "cannot read config"}).status == Status.UNKNOWN


def test_device_probe_reads_the_app_config(tmp_path):
    from fleetops.checks.probe import probe_device

    config = tmp_path / "config.json"
    config.write_text(json.dumps({"devices": {"audio": "hw:1,0", "serial": {"port": "/dev/null"}, "camera": None}}))
    audio = probe_device({"config_key": "audio", "config_file": str(config)})
    assert audio["path"] == "/dev/snd/pcmC1D0c"
    serial = probe_device({"config_key": "serial", "config_file": str(config)})
    assert serial["present"] and serial["char"]
    assert probe_device({"config_key": "camera", "config_file": str(config)})["configured"] is False
