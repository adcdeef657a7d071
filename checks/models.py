"""An ONNX model file on a host, judged on the controller: ``{kind: onnx, path: /opt/m/model.onnx,
opset: 13, inputs: [X], golden: files/golden-manifest.json, max_mb: 1, quantized: true}``.

The probe sends the file back (up to 64 MiB) with its sha256; the controller checks it with
``onnx.checker``, reads its opset and signature, and runs ``golden`` inputs (a fleetops model
manifest on the controller: its interface says how to feed them, its golden list what each must
answer) through onnxruntime, exactly as ``fleetops model inspect`` does. So a candidate's own
conversion of a trained model is graded by what it answers, not by how it was made. The value
is the file size in MB (``scale`` items can reward compression).
"""

from __future__ import annotations

import base64
import hashlib
import json
import tempfile
from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field

from fleetops.checks.base import Check, Outcome, failed, passed
from fleetops.checks.result import Status

MAX_BYTES = 64 * 1024 * 1024
QUANTIZED_OPS = {
    "QuantizeLinear",
    "DynamicQuantizeLinear",
    "QLinearConv",
    "QLinearMatMul",
    "MatMulInteger",
    "ConvInteger",
}


class Onnx(Check):
    kind: Literal["onnx"]
    path: str = Field(pattern=r"^/")
    opset: int | None = Field(None, ge=1, description="lowest acceptable default-domain opset")
    max_opset: int | None = Field(None, ge=1)
    inputs: list[str] = Field(default_factory=list, description="input names the graph must have")
    outputs: list[str] = Field(default_factory=list)
    golden: str | None = Field(None, description="a fleetops manifest.json on the controller")
    max_mb: float | None = Field(None, gt=0)
    quantized: bool | None = None
    unit: ClassVar[str] = "MB"

    def default_name(self) -> str:
        return f"onnx:{self.path}"

    def probe(self) -> dict:
        return {"op": "blob", "args": {"path": self.path, "max_bytes": MAX_BYTES}}

    def judge(self, raw: dict) -> Outcome:
        if not raw["exists"]:
            return failed(f"{self.path} does not exist")
        if raw.get("truncated"):
            return failed(f"{self.path} is larger than {MAX_BYTES // 2**20} MiB")
        data = base64.b64decode(raw["data"])
        if hashlib.sha256(data).hexdigest() != raw["sha256"]:
            return Outcome(Status.UNKNOWN, f"{self.path}: the copy read back does not match the host's sha256")
        try:
            import onnx
        except ImportError:
            return Outcome(Status.UNKNOWN, "onnx is not installed on the controller (pip install fleetops[models])")
        size_mb = len(data) / 2**20
        try:
            model = onnx.load_from_string(data)
            onnx.checker.check_model(model)
        except Exception as error:  # noqa: BLE001 - any parse/check failure is the model's fault
            return failed(
                f"{self.path}: not a valid ONNX model ({type(error).__name__}: {str(error)[:160]})", value=size_mb
            )
        problems = []
        opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), None)
        if self.opset is not None and (opset is None or opset < self.opset):
            problems.append(f"opset {opset} (need at least {self.opset})")
        if self.max_opset is not None and opset is not None and opset > self.max_opset:
            problems.append(f"opset {opset} (at most {self.max_opset})")
        initializers = {i.name for i in model.graph.initializer}
        names_in = [i.name for i in model.graph.input if i.name not in initializers]
        names_out = [o.name for o in model.graph.output]
        problems += [f"no input {n} (has {', '.join(names_in)})" for n in self.inputs if n not in names_in]
        problems += [f"no output {n} (has {', '.join(names_out)})" for n in self.outputs if n not in names_out]
        if self.max_mb is not None and size_mb > self.max_mb:
            problems.append(f"{size_mb:.2f} MB (at most {self.max_mb:g})")
        if self.quantized is not None:
            is_quantized = any(node.op_type in QUANTIZED_OPS for node in model.graph.node)
            if is_quantized != self.quantized:
                problems.append("quantized" if is_quantized else "not quantized")
        if self.golden and not problems:
            problems += _golden(data, Path(self.golden))
        if problems:
            return failed(f"{self.path}: " + ", ".join(problems), value=round(size_mb, 4))
        return passed(f"{self.path}: opset {opset}, inputs {', '.join(names_in)}, {size_mb:.2f} MB", round(size_mb, 4))


def _golden(data: bytes, manifest_path: Path) -> list[str]:
    """What the model answers wrong on the examiner's golden inputs."""
    try:
        from fleetops.models.manifest import Manifest
        from fleetops.models.quantize import golden_problems
    except ImportError:
        return ["onnxruntime is not installed on the controller"]
    manifest = Manifest.model_validate(json.loads(manifest_path.read_text(encoding="utf-8")))
    with tempfile.TemporaryDirectory(prefix="fleetops-onnx-") as tmp:
        model = Path(tmp) / "model.onnx"
        model.write_bytes(data)
        try:
            found = golden_problems(model, manifest)
        except Exception as error:  # noqa: BLE001 - a model that cannot take the inputs fails
            return [f"golden inputs cannot run: {type(error).__name__}: {str(error)[:160]}"]
    return [f"golden: {problem}" for problem in found[:3]] + ([f"(+{len(found) - 3} more)"] if len(found) > 3 else [])
