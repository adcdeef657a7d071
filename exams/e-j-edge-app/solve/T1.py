"""Reference solution of T1: the model copied, unchanged."""

from pyinfra import host
from pyinfra.operations import server

target = f"/opt/fleetops-edge/models/{host.data.exam_values['model_dir']}"
server.shell(
    name="Copy the model",
    commands=[
        f"mkdir -p {target} && cp /opt/exam/models/digits/model.onnx /opt/exam/models/digits/manifest.json {target}/"
    ],
)
