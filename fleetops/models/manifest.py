"""Every model directory holds ``model.onnx``, ``manifest.json`` and ``eval.npz``.

The manifest is what deploys, smoke tests and reports trust: the model's sha256, opset, input
and output signatures, labels, golden inputs with their expected outputs, and where it came from.
A model whose file does not match its manifest's sha256 is refused.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from fleetops.edge.inference import Interface
from fleetops.errors import InputError
from fleetops.fileutil import atomic_write_text, sha256_file
from fleetops.validation import describe_validation_error

MODEL_FILE, MANIFEST_FILE, EVAL_FILE = "model.onnx", "manifest.json", "eval.npz"


class Tensor(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    dtype: str
    shape: list[int | str | None]


class Golden(BaseModel):
    """One input the model must keep answering with ``label`` (score at least ``min_score``).

    The input is exactly one of ``input`` (numbers), ``data`` (base64 raw samples) or ``text``,
    as a request to the app would carry it (see :mod:`fleetops.edge.inference`)."""

    model_config = ConfigDict(extra="forbid")

    input: list | None = None
    data: str | None = None
    text: str | None = None
    label: str
    min_score: float = Field(0.0, ge=0, le=1)
    note: str = ""  # what the input is (e.g. "astronaut.png rotated 90°")

    @model_validator(mode="after")
    def _one_payload(self) -> "Golden":
        if sum(value is not None for value in (self.input, self.data, self.text)) != 1:
            raise ValueError("a golden input needs exactly one of input, data, text")
        return self


class Manifest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")
    version: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}$")
    task: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    size_bytes: int
    opset: int
    inputs: list[Tensor]
    outputs: list[Tensor]
    labels: list[str] = Field(min_length=1)
    interface: Interface = Interface()  # how the app feeds the model and reads its answer
    golden: list[Golden] = Field(min_length=1)
    source: dict = Field(default_factory=dict)
    quantization: dict = Field(default_factory=dict)


def describe(model_path: Path) -> dict:
    """sha256, size, opset and signatures of an ONNX file (read with the onnx package)."""
    import onnx

    try:
        model = onnx.load(str(model_path))
    except Exception as error:  # noqa: BLE001 - any parse failure means "not a usable model"
        raise InputError(f"{model_path}: not a readable ONNX model ({type(error).__name__})") from None

    def tensors(values) -> list[dict]:
        out = []
        for value in values:
            kind = value.type.tensor_type
            shape = [dim.dim_value if dim.HasField("dim_value") else (dim.dim_param or None)
                     for dim in kind.shape.dim]
            out.append({"name": value.name, "dtype": onnx.TensorProto.DataType.Name(kind.elem_type).lower(),
                        "shape": shape})
        return out

    opset = max((entry.version for entry in model.opset_import if entry.domain in ("", "ai.onnx")), default=0)
    return {"sha256": sha256_file(model_path), "size_bytes": model_path.stat().st_size, "opset": opset,
            "inputs": tensors(model.graph.input), "outputs": tensors(model.graph.output)}


def write(directory: Path, manifest: Manifest) -> Path:
    path = directory / MANIFEST_FILE
    atomic_write_text(path, manifest.model_dump_json(indent=2, exclude_none=True) + "\n", mode=0o644)
    return path


def _catalogue_names() -> set[str]:
    from fleetops.models.zoo import CATALOGUE

    return set(CATALOGUE)


def load(directory: Path, check_file: bool = True) -> Manifest:
    """The manifest of a model directory; with ``check_file`` the model must match its sha256."""
    path = directory / MANIFEST_FILE
    if not path.is_file():
        hint = directory.name if directory.name in _catalogue_names() else "<name>"
        raise InputError(f"{directory}: no {MANIFEST_FILE} (not a fleetops model directory; build one with "
                         f"'fleetops model convert --model {hint} --out {directory}', see 'fleetops model list')")
    try:
        manifest = Manifest.model_validate(json.loads(path.read_text()))
    except ValueError as error:
        detail = describe_validation_error(error) if isinstance(error, ValidationError) else "not JSON"
        raise InputError(f"{path}: {detail}") from None
    if check_file:
        model = directory / MODEL_FILE
        if not model.is_file():
            raise InputError(f"{directory}: {MODEL_FILE} is missing")
        actual = sha256_file(model)
        if actual != manifest.sha256:
            raise InputError(f"{model}: sha256 {actual[:12]}… does not match the manifest "
                             f"({manifest.sha256[:12]}…)")
    return manifest
