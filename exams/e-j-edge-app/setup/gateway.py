"""Every e-j-edge-app seat before the exam: the edge app's release installed (app + venv from
fleetops' offline bundle) but not configured, not a service; the model, a config template and
the unit as shipped in /opt/exam for the candidate."""

from pathlib import Path

from pyinfra.operations import files

from fleetops.edge.bundle import EDGE
from fleetops.edge.layout import ETC, LOG_DIR, ROOT, USER
from fleetops.roles.bundled_service import install_release, service_layout, switch_to
from fleetops.roles.packages import install

HERE = Path(__file__).parents[1] / "files"

install(["python3-venv"], name="Install python3-venv")
service_layout(USER, ROOT, ETC, extra_dirs=("models",))
files.directory(name=f"Directory {LOG_DIR}", path=LOG_DIR, mode="750", user=USER, group=USER)
release = install_release(ROOT, EDGE)
switch_to(ROOT, release)
files.directory(name="Exam materials", path="/opt/exam/models/digits")
for name in ("model.onnx", "manifest.json"):
    files.put(name=f"Model file {name}", src=str(HERE / "digits" / name), dest=f"/opt/exam/models/digits/{name}")
files.put(name="Config template", src=str(HERE / "config.example.json"), dest="/opt/exam/config.example.json")
files.put(name="Unit as shipped", src=str(HERE / "fleetops-edge.service"), dest="/opt/exam/fleetops-edge.service")
