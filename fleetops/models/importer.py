"""``fleetops model import``: a model fleetops never saw, made into a model directory.

Convert (``formats``) -> check (the ONNX checker, an onnxruntime session: unknown ops fail here)
-> interface (``interface_infer``: the graph, then ``--interface``, then flags) -> labels (a file,
or the estimator's classes) -> the app's own Runner built on it (a declared shape the model cannot
take fails here) -> the user's labelled samples run through it: the ones it answers right become
the golden inputs, all of them the evaluation set. Only then is anything written, into a scratch
folder renamed into place, so a refused import leaves nothing behind.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from fleetops.edge.inference import Interface, Runner, encode
from fleetops.errors import InputError
from fleetops.models import datasets, formats, interface_infer, runtime
from fleetops.models import manifest as manifests
from fleetops.models.manifest import EVAL_FILE, MANIFEST_FILE, MODEL_FILE, Golden, Manifest
from fleetops.validation import read_yaml

GOLDEN_COUNT = 5
TASKS = {"image": "image-classification", "tabular": "tabular-classification", "text": "text-classification",
         "audio": "audio-classification"}


@dataclass
class ImportOptions:
    source: Path
    out: Path
    samples: Path
    labels_file: Path | None = None
    interface_file: Path | None = None
    name: str | None = None
    version: str = "1"
    input_shape: list[int] | None = None
    flags: dict = field(default_factory=dict)  # "input.scale": 0.0039, "output.softmax": True, ...
    trust_pickle: bool = False
    weights: Path | None = None


def import_model(options: ImportOptions) -> Manifest:
    out = options.out
    if (out / MANIFEST_FILE).exists() or (out.exists() and any(out.iterdir())):
        raise InputError(f"{out}: exists and is not empty; import into a new directory")
    given = _interface_file(options.interface_file)
    fmt = formats.detect(options.source)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=f".{out.name}.import-") as tmp:
        work = Path(tmp)
        shape = options.input_shape or _declared_example(given, options.flags)
        converted = formats.to_onnx(options.source, fmt, work, shape, options.trust_pickle, options.weights)
        described = _check_onnx(converted.path)
        inferred = {
            "input": _infer_input(described["inputs"][0], given),
            "output": interface_infer.infer_output(described["outputs"], converted.classifier),
        }
        interface = interface_infer.merge(inferred, given, options.flags)
        labels = _labels(options.labels_file, converted.labels, described, interface)
        base = {
            "name": _name(options),
            "version": options.version,
            "task": TASKS[interface.input.kind],
            "labels": labels,
            "interface": interface.model_dump(exclude_none=True),
            "source": {"framework": converted.framework, "format": fmt, "file": options.source.name},
            **described,
        }
        runner = _runner(converted.path, {**base, "golden": []})
        if interface.output.kind == "scores" and "output.softmax" not in options.flags:
            base["interface"]["output"]["softmax"] = not _looks_like_probabilities(runner, interface)
            runner = _runner(converted.path, {**base, "golden": []})
        features, expected = datasets.load(options.samples, interface, labels)
        golden, accuracy = _golden(runner, interface, features, expected, labels)
        base["source"]["sample_accuracy"] = round(accuracy, 4)
        manifest = Manifest.model_validate({**base, "golden": [item.model_dump() for item in golden]})
        problems = runtime.runner(converted.path, manifest).check_golden()
        if problems:  # cannot happen unless the model is not deterministic
            raise InputError(f"{options.source}: the model does not answer its own golden inputs: {problems[0]}")
        staged = work / "out"
        staged.mkdir()
        shutil.move(str(converted.path), staged / MODEL_FILE)
        (staged / MODEL_FILE).chmod(0o644)
        np.savez_compressed(staged / EVAL_FILE, x=features, y=expected, calibration=features[:200])
        manifests.write(staged, manifest)
        if out.exists():
            out.rmdir()
        staged.rename(out)
    return manifest


def _interface_file(path: Path | None) -> dict | None:
    if path is None:
        return None
    data = read_yaml(path, str(path), missing=f"interface file not found: {path}")
    if not isinstance(data, dict) or not set(data) <= {"input", "output", "constants"}:
        raise InputError(f"{path}: an interface file is a mapping with input, output and constants")
    return data


def _declared_example(given: dict | None, flags: dict) -> list[int] | None:
    """The PyTorch example input from a declared image interface (``input.shape`` + layout)."""
    if not given or "input" not in given:
        return None
    try:
        interface = Interface.model_validate({"input": given["input"]})
    except ValueError:
        return None
    return interface_infer.example_shape(interface, {})


def _check_onnx(path: Path) -> dict:
    import onnx

    described = manifests.describe(path)  # InputError for a file that does not parse
    try:
        onnx.checker.check_model(str(path))
    except Exception as error:  # noqa: BLE001 - ValidationError and friends
        raise InputError(f"{path.name}: not a valid ONNX model: {str(error).splitlines()[0][:200]}") from None
    try:
        runtime.session(path)
    except Exception as error:  # noqa: BLE001 - onnxruntime raises Fail/NotImplemented/InvalidGraph
        raise InputError(f"onnxruntime cannot run the model: {str(error).splitlines()[0][:240]}") from None
    if not described["inputs"] or not described["outputs"]:
        raise InputError("the model has no inputs or no outputs")
    return described


def _infer_input(tensor: dict, given: dict | None) -> dict:
    if given and "input" in given and "kind" in given["input"]:
        return {}  # the user said what it is; nothing to guess
    return interface_infer.infer_input(tensor)


def _labels(path: Path | None, from_model: list[str], described: dict, interface: Interface) -> list[str]:
    if path is not None:
        try:
            labels = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        except FileNotFoundError:
            raise InputError(f"labels file not found: {path}") from None
        if len(set(labels)) != len(labels):
            raise InputError(f"{path}: labels repeat")
    else:
        labels = from_model
    outputs = described["outputs"]
    if interface.output.kind == "scores":
        index = next((i for i, o in enumerate(outputs) if o["name"] == interface.output.name), 0)
        width = outputs[index]["shape"][-1] if outputs[index]["shape"] else None
        if not labels:
            raise InputError(f"the model gives {width or 'several'} scores: name them with --labels FILE (one per line)")
        if isinstance(width, int) and width > 0 and width != len(labels):
            raise InputError(f"the model gives {width} scores but {len(labels)} labels were given")
    if interface.output.kind == "binary" and len(labels) != 2:
        raise InputError("a binary output needs exactly 2 labels (negative first)")
    if not labels:
        raise InputError("no labels: give --labels FILE (one per line)")
    return labels


def _runner(path: Path, manifest: dict) -> Runner:
    try:
        return Runner(runtime.session(path), manifest)
    except ValueError as error:  # wrong shape, an input the interface does not feed
        raise InputError(str(error)) from None


def _looks_like_probabilities(runner: Runner, interface: Interface) -> bool:
    """Whether the scores output already sums to 1 (else the interface applies a softmax)."""
    spec = interface.input
    if spec.kind == "image":
        probe = np.full(spec.shape, 128, dtype=np.float32)
    elif spec.kind == "tabular":
        width = runner.input_shape[-1] if isinstance(runner.input_shape[-1], int) else 1
        probe = np.zeros((1, width), dtype=np.float32)
    else:
        return True
    outputs = runner.session.run(None, {runner.input_name: runner.prepare(probe), **runner.constants})
    scores = np.asarray(outputs[runner.output_index], dtype=np.float64).reshape(-1)
    return bool(scores.min() >= 0 and abs(scores.sum() - 1.0) < 1e-3)


def _golden(
    runner: Runner, interface: Interface, features: np.ndarray, expected: np.ndarray, labels: list[str]
) -> tuple[list[Golden], float]:
    """Up to GOLDEN_COUNT samples the model answers right, one label after another."""
    hits: dict[int, list[tuple[int, float]]] = {}
    correct = 0
    for index, (sample, label) in enumerate(zip(features, expected, strict=True)):
        answer, score, _ms = runner.run(runtime.sample_payload(sample))
        if answer == labels[int(label)]:
            correct += 1
            hits.setdefault(int(label), []).append((index, score))
    if not hits:
        raise InputError(f"the model answers none of the {len(features)} samples with their label: "
                         "check the labels' order and the interface (scale, mean, std, layout)")
    chosen: list[tuple[int, float]] = []
    while len(chosen) < GOLDEN_COUNT and any(hits.values()):
        for label in sorted(hits):
            if hits[label] and len(chosen) < GOLDEN_COUNT:
                chosen.append(hits[label].pop(0))
    golden = []
    for index, score in chosen:
        sample, label = features[index], labels[int(expected[index])]
        payload = _payload(sample, interface)
        golden.append(Golden(**payload, label=label, min_score=round(0.5 * score, 4), note=f"sample {index}"))
    return golden, correct / len(features)


def _payload(sample, interface: Interface) -> dict:
    kind = interface.input.kind
    if kind == "text":
        return {"text": str(sample)}
    if kind == "image":
        return {"data": encode(np.asarray(sample).astype(interface.input.dtype), interface.input.dtype)}
    if kind == "audio":
        dtype = interface.input.dtype
        samples = np.asarray(sample) if dtype == "float32" else np.asarray(sample) * 32768.0
        return {"data": encode(samples.astype(dtype), dtype)}
    return {"input": [np.asarray(sample).round(6).tolist()]}


def _name(options: ImportOptions) -> str:
    if options.name:
        return options.name
    stem = options.source.name.split(":")[-1] if ":" in options.source.name else options.source.stem
    cleaned = re.sub(r"[^a-z0-9_.-]+", "-", stem.lower()).strip("-.") or "model"
    return cleaned[:64]
