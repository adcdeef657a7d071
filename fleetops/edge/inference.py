"""How a model is fed and read: its interface (in the manifest) and the code that applies it.

One file shared by the controller (quantize, inspect, smoke expectations) and the edge app on
the gateway (shipped in the offline bundle next to ``app.py``), so both run a model identically.
It needs numpy, onnxruntime and pydantic only; it imports nothing from fleetops.

A request (and a golden input) carries exactly one of:

* ``input``: numbers (rows of features for tabular models, or any nesting that reshapes to the
  declared input);
* ``data``: base64 of raw samples in ``interface.input.dtype`` (an HWC image, PCM audio);
* ``text``: a string (text classifiers).

Preprocessing is declared, not coded per model: ``scale``, per-channel ``mean``/``std``, layout
(``NCHW``, ``NHWC`` or ``flat``), and for audio the framing of a long clip into model windows.
Outputs are read as a ``classifier`` (label index + probabilities, as skl2onnx emits), ``scores``
(argmax, optional softmax), or ``binary`` (one probability or logit, reduced over frames or
anchors, compared with ``threshold``: ``labels[1]`` when at or above it, else ``labels[0]``).
"""

from __future__ import annotations

import base64
import math
import time
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

DTYPES = ("float32", "uint8", "int16", "int64")


class InputSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["tabular", "image", "audio", "text"] = "tabular"
    name: str | None = None  # the model input fed with the request (default: the first)
    shape: list[int] = Field(default_factory=list)  # image: [height, width, channels] as sent
    dtype: Literal["float32", "uint8", "int16"] = "float32"  # of `data` payloads
    layout: Literal["flat", "NCHW", "NHWC"] = "flat"
    scale: float = 1.0
    mean: list[float] = Field(default_factory=lambda: [0.0])
    std: list[float] = Field(default_factory=lambda: [1.0])
    sample_rate: int | None = Field(None, ge=8000, le=192000)
    frame: int | None = Field(None, ge=1)  # audio: samples per model window
    context: int = Field(0, ge=0)  # audio: samples of the previous window prepended to each

    @model_validator(mode="after")
    def _consistent(self) -> "InputSpec":
        if self.kind == "image" and len(self.shape) != 3:
            raise ValueError("image input needs shape [height, width, channels]")
        if self.kind == "audio" and not self.sample_rate:
            raise ValueError("audio input needs sample_rate")
        if any(value <= 0 for value in self.std):
            raise ValueError("std values must be positive")
        return self


class Constant(BaseModel):
    """A model input the app fills itself (recurrent state, sample rate)."""

    model_config = ConfigDict(extra="forbid")

    dtype: Literal["float32", "int64"] = "float32"
    shape: list[int] = Field(default_factory=list)
    fill: float = 0.0


class OutputSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["classifier", "scores", "binary"] = "classifier"
    name: str | None = None  # the output to read (default: the first)
    softmax: bool = False
    activation: Literal["none", "sigmoid"] = "none"
    reduce: Literal["first", "max", "mean"] = "first"
    threshold: float = Field(0.5, ge=0, le=1)


class Interface(BaseModel):
    model_config = ConfigDict(extra="forbid")

    input: InputSpec = InputSpec()
    constants: dict[str, Constant] = Field(default_factory=dict)
    output: OutputSpec = OutputSpec()


class Preprocess(BaseModel):
    """Overrides of the model's own normalisation (from the gateway's config), when set."""

    model_config = ConfigDict(extra="forbid")

    scale: float | None = None
    mean: list[float] | None = None
    std: list[float] | None = None


def payload_of(item: dict) -> dict:
    """The request body for a golden input (or any dict holding one payload key)."""
    return {key: item[key] for key in ("input", "data", "text") if item.get(key) is not None}


def encode(array, dtype: str) -> str:
    """base64 of an array's raw samples (for ``data`` payloads)."""
    import numpy as np

    return base64.b64encode(np.ascontiguousarray(array, dtype=dtype).tobytes()).decode()


class Runner:
    """An onnxruntime session plus the manifest that says how to feed and read it."""

    def __init__(self, session, manifest: dict, preprocess: Preprocess | None = None) -> None:
        import numpy as np

        self.np, self.session, self.manifest = np, session, manifest
        self.interface = Interface.model_validate(manifest.get("interface") or {})
        self.labels: list[str] = manifest["labels"]
        spec, overrides = self.interface.input, preprocess or Preprocess()
        self.scale = spec.scale if overrides.scale is None else overrides.scale
        self.mean = np.asarray(spec.mean if overrides.mean is None else overrides.mean, dtype=np.float32)
        self.std = np.asarray(spec.std if overrides.std is None else overrides.std, dtype=np.float32)
        inputs = {item.name: item for item in session.get_inputs()}
        self.input_name = spec.name or session.get_inputs()[0].name
        if self.input_name not in inputs:
            raise ValueError(f"the model has no input {self.input_name!r}")
        self.input_shape = inputs[self.input_name].shape
        self._check_shape()
        self.constants = {name: np.full(c.shape, c.fill, dtype=c.dtype) for name, c in self.interface.constants.items()}
        missing = set(inputs) - {self.input_name} - set(self.constants)
        if missing:
            raise ValueError(f"model inputs not fed by the interface: {', '.join(sorted(missing))}")
        names = [item.name for item in session.get_outputs()]
        self.output_index = names.index(self.interface.output.name) if self.interface.output.name else 0

    def _check_shape(self) -> None:
        """Refuse a model whose input tensor cannot take what its interface declares."""
        spec = self.interface.input
        if spec.kind == "image":
            height, width, channels = spec.shape
            want = {
                "flat": [height * width * channels],
                "NCHW": [channels, height, width],
                "NHWC": [height, width, channels],
            }[spec.layout]
            declared = f"{height}x{width}x{channels} image, {spec.layout}"
        elif spec.kind == "audio" and spec.frame:
            want, declared = [spec.frame + spec.context], f"audio windows of {spec.frame + spec.context} samples"
        else:
            return
        got = [dim if isinstance(dim, int) else None for dim in list(self.input_shape or [])[1:]]
        if len(got) != len(want) or any(dim is not None and dim != size for dim, size in zip(got, want, strict=True)):
            raise ValueError(
                f"wrong input shape: model input {self.input_name}{list(self.input_shape or [])} "
                f"cannot take the declared {declared}"
            )

    # -- input -------------------------------------------------------------------------------
    def decode(self, payload: dict):
        """The request's samples as an array (before normalisation)."""
        np, spec = self.np, self.interface.input
        keys = [key for key in ("input", "data", "text") if payload.get(key) is not None]
        if len(keys) != 1:
            raise ValueError("send exactly one of input, data, text")
        if spec.kind == "text":
            if keys != ["text"] or not isinstance(payload["text"], str):
                raise ValueError('this model takes text: {"text": "..."}')
            return np.array([[payload["text"]]], dtype=object)
        if keys == ["text"]:
            raise ValueError(f"this model takes {spec.kind} input, not text")
        if keys == ["data"]:
            if not isinstance(payload["data"], str):
                raise ValueError("data must be a base64 string")
            expected = self._expected_samples() * np.dtype(spec.dtype).itemsize
            if expected and len(payload["data"]) > 4 * (expected // 3 + 1) + 4:
                raise ValueError(f"data is larger than one input ({expected} bytes)")
            try:
                raw = base64.b64decode(payload["data"], validate=True)
            except (ValueError, TypeError):
                raise ValueError("data is not base64") from None
            size = np.dtype(spec.dtype).itemsize
            if len(raw) % size:
                raise ValueError(f"data is not a whole number of {spec.dtype} samples")
            samples = np.frombuffer(raw, dtype=spec.dtype)
        else:
            try:
                samples = np.asarray(payload["input"], dtype=np.float32)
            except (TypeError, ValueError, OverflowError):
                raise ValueError("input must be a (nested) list of numbers") from None
        if samples.dtype.kind == "f" and not np.isfinite(samples).all():
            raise ValueError("input holds NaN or infinite values")
        if spec.kind == "image":
            if samples.size != int(np.prod(spec.shape)):
                raise ValueError(
                    f"image needs {spec.shape[0]}x{spec.shape[1]}x{spec.shape[2]} "
                    f"= {int(np.prod(spec.shape))} samples, got {samples.size}"
                )
            return samples.reshape(spec.shape)
        if spec.kind == "audio":
            if samples.dtype == np.int16:
                return samples.astype(np.float32) / 32768.0
            return samples.reshape(-1).astype(np.float32)
        return samples.reshape(1, -1) if samples.ndim == 1 else samples

    def _expected_samples(self) -> int:
        """Samples in one image request (0 where the size is not fixed: audio, text, tabular)."""
        spec = self.interface.input
        return int(self.np.prod(spec.shape)) if spec.kind == "image" else 0

    def prepare(self, samples):
        """Normalise and lay out decoded samples as the model input tensor."""
        np, spec = self.np, self.interface.input
        if spec.kind == "text":
            return samples
        if spec.kind == "audio":
            return self._frames(samples)
        values = (samples.astype(np.float32) * self.scale - self.mean) / self.std
        if spec.kind == "image":
            if spec.layout == "NCHW":
                return values.transpose(2, 0, 1)[None].astype(np.float32)
            if spec.layout == "NHWC":
                return values[None].astype(np.float32)
            return values.reshape(1, -1).astype(np.float32)
        return values.astype(np.float32)

    def _frames(self, audio):
        np, spec = self.np, self.interface.input
        audio = (audio * self.scale - self.mean[0]) / self.std[0]
        if not spec.frame:
            return audio[None].astype(np.float32)
        count = len(audio) // spec.frame
        if count == 0:
            raise ValueError(f"audio needs at least {spec.frame} samples at {spec.sample_rate} Hz")
        padded = np.concatenate([np.zeros(spec.context, np.float32), audio[: count * spec.frame]])
        step, width = spec.frame, spec.frame + spec.context
        return np.stack([padded[i * step : i * step + width] for i in range(count)]).astype(np.float32)

    # -- output ------------------------------------------------------------------------------
    def interpret(self, outputs: list) -> tuple[str, float]:
        """(top label, confidence) from the model's outputs."""
        np, spec = self.np, self.interface.output
        if spec.kind == "classifier":
            index = int(np.asarray(outputs[0]).reshape(-1)[0])
            scores = np.asarray(outputs[1])[0] if len(outputs) > 1 else None
            return self.labels[index], float(scores[index]) if scores is not None else 1.0
        values = np.asarray(outputs[self.output_index], dtype=np.float64)
        if spec.kind == "scores":
            scores = values.reshape(values.shape[0], -1)[0]
            if spec.softmax:
                scores = np.exp(scores - scores.max())
                scores = scores / scores.sum()
            index = int(np.argmax(scores))
            return self.labels[index], float(scores[index])
        flat = values.reshape(-1)
        value = {"first": flat[0], "max": flat.max(), "mean": flat.mean()}[spec.reduce]
        if spec.activation == "sigmoid":
            value = 1.0 / (1.0 + np.exp(-value))
        positive = value >= spec.threshold
        return self.labels[1 if positive else 0], float(value if positive else 1.0 - value)

    def run(self, payload: dict) -> tuple[str, float, float]:
        """(label, confidence, model latency in ms) for one request."""
        tensor = self.prepare(self.decode(payload))
        feeds = {self.input_name: tensor, **self.constants}
        started = time.perf_counter_ns()
        outputs = self.session.run(None, feeds)
        latency_ms = (time.perf_counter_ns() - started) / 1e6
        label, confidence = self.interpret(outputs)
        if not math.isfinite(confidence):
            raise ValueError(f"the model answered a confidence that is not a finite number: {confidence!r}")
        return label, confidence, latency_ms

    def check_golden(self, first_only: bool = False) -> list[str]:
        """Problems with the manifest's golden inputs (empty when all answer as recorded)."""
        problems = []
        goldens = self.manifest.get("golden", [])
        for index, golden in enumerate(goldens[:1] if first_only else goldens):
            try:
                label, confidence, _ms = self.run(payload_of(golden))
            except Exception as error:  # noqa: BLE001 - any failure is a golden failure, with a reason
                problems.append(f"golden {index}: {type(error).__name__}: {error}"[:300])
                continue
            if label != golden["label"]:
                problems.append(f"golden {index}: label {label!r}, expected {golden['label']!r}")
            elif confidence < golden.get("min_score", 0.0):
                problems.append(f"golden {index}: confidence {confidence:.3f} < {golden['min_score']}")
        return problems
