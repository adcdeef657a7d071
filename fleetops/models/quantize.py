"""``fleetops model quantize``: INT8 variants behind an accuracy gate; keep the fastest that passes.

Candidates: the fp32 model itself, onnxruntime dynamic INT8, and static INT8 (QDQ, calibrated on
the model's calibration samples). Each is measured for size, single-sample latency (p50/p95 after
warm-up) and accuracy on the evaluation set; a variant passes when its accuracy is at least
``gate`` times the fp32 accuracy and it still answers every golden input correctly. The fastest
passing variant (by p50; within 5 % counts as a tie, won by the smaller file) is kept as
``model.onnx``; the others are deleted; the manifest records
every measurement and the choice. INT8 is not always faster on CPU, which is why it is measured.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np

from fleetops.errors import InputError
from fleetops.models import manifest as manifests
from fleetops.models import runtime
from fleetops.models.manifest import EVAL_FILE, MODEL_FILE, Manifest


def golden_problems(model_path: Path, manifest: Manifest) -> list[str]:
    """What the model gets wrong on its golden inputs (empty: all answer as recorded)."""
    return runtime.runner(model_path, manifest).check_golden()


def golden_ok(model_path: Path, manifest: Manifest) -> bool:
    return not golden_problems(model_path, manifest)


def _calibration_reader(model: runtime.Runner, samples: np.ndarray):
    from onnxruntime.quantization import CalibrationDataReader

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self._items = iter([runtime.feeds(model, sample) for sample in samples])

        def get_next(self):
            return next(self._items, None)

    return Reader()


def int8_variants(source: Path, work: Path, calibration: np.ndarray, manifest: Manifest) -> dict[str, Path | str]:
    """Build the INT8 variants; a variant that cannot be built is reported, not fatal."""
    from onnxruntime.quantization import QuantFormat, QuantType, quantize_dynamic, quantize_static

    variants: dict[str, Path | str] = {"fp32": source}
    dynamic = work / "dynamic.onnx"
    try:
        quantize_dynamic(str(source), str(dynamic), weight_type=QuantType.QInt8)
        variants["int8-dynamic"] = dynamic
    except Exception as error:  # noqa: BLE001 - onnxruntime raises many types
        variants["int8-dynamic"] = f"{type(error).__name__}: {error}"
    static = work / "static.onnx"
    try:
        quantize_static(str(source), str(static), _calibration_reader(runtime.runner(source, manifest), calibration),
                        quant_format=QuantFormat.QDQ, per_channel=True,
                        activation_type=QuantType.QInt8, weight_type=QuantType.QInt8)
        variants["int8-static"] = static
    except Exception as error:  # noqa: BLE001
        variants["int8-static"] = f"{type(error).__name__}: {error}"
    return variants


def evaluation_set(model_dir: Path, manifest: Manifest, data: Path | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(samples, label indices, calibration samples): from a labelled set ``data`` (its first 200
    samples calibrate), else from the directory's ``eval.npz``. Shared by quantize and optimize."""
    if data is not None:
        from fleetops.models import datasets

        features, expected = datasets.load(data, manifest.interface, manifest.labels)
        return features, expected, features[:200]
    if not (model_dir / EVAL_FILE).is_file():
        raise InputError(f"{model_dir}: no {EVAL_FILE} (evaluation and calibration samples) to gate on: give --data")
    evaluation = np.load(model_dir / EVAL_FILE, allow_pickle=False)
    return evaluation["x"], evaluation["y"], evaluation["calibration"]


def quantize(model_dir: Path, gate: float = 0.99, data: Path | None = None) -> dict:
    """Measure every variant, keep the fastest passing one; returns the report. ``data`` (a
    labelled set, see :mod:`fleetops.models.datasets`) replaces the directory's ``eval.npz`` as
    the evaluation and calibration set."""
    if not 0 < gate <= 1:
        raise InputError(f"--gate must be in (0, 1], got {gate}")
    manifest = manifests.load(model_dir)
    if manifest.quantization.get("kept") not in (None, "fp32"):
        raise InputError(f"{model_dir}: already quantized ({manifest.quantization['kept']}); "
                         "quantize the fp32 model")
    features, expected, calibration = evaluation_set(model_dir, manifest, data)
    with tempfile.TemporaryDirectory(dir=model_dir, prefix=".quantize-") as tmp:
        work = Path(tmp)
        source = work / "fp32.onnx"
        shutil.copy(model_dir / MODEL_FILE, source)
        report: dict[str, dict] = {}
        for variant, path in int8_variants(source, work, calibration, manifest).items():
            if isinstance(path, str):
                report[variant] = {"built": False, "error": path[:300], "passed": False}
                continue
            try:
                model = runtime.runner(path, manifest)
                report[variant] = {"built": True, "size_bytes": path.stat().st_size,
                                   "accuracy": round(runtime.accuracy(model, features, expected), 4),
                                   "latency_ms": runtime.latency_ms(model, features),
                                   "golden_ok": not model.check_golden()}
            except Exception as error:  # noqa: BLE001 - a variant that cannot run is reported, not fatal
                report[variant] = {"built": False, "error": f"{type(error).__name__}: {error}"[:300],
                                   "passed": False}
        if not report["fp32"]["built"]:
            raise InputError(f"{model_dir}: the fp32 model does not run: {report['fp32']['error']}")
        baseline = report["fp32"]["accuracy"]
        for variant, row in report.items():
            if row["built"]:
                row["passed"] = row["golden_ok"] and row["accuracy"] >= gate * baseline
        passing = [name for name, row in report.items() if row["passed"]]
        if "fp32" not in passing:
            raise InputError(f"{model_dir}: the fp32 model fails its own golden inputs")
        best = min(report[name]["latency_ms"]["p50"] for name in passing)
        # within 5 % of the fastest is a tie (timer noise); among those, the smallest file wins
        close = [name for name in passing if report[name]["latency_ms"]["p50"] <= best * 1.05]
        kept = min(close, key=lambda name: report[name]["size_bytes"])
        if kept != "fp32":
            chosen = work / {"int8-dynamic": "dynamic.onnx", "int8-static": "static.onnx"}[kept]
            tmp_model = model_dir / f".{MODEL_FILE}.tmp"
            shutil.copy(chosen, tmp_model)
            tmp_model.replace(model_dir / MODEL_FILE)
    described = manifests.describe(model_dir / MODEL_FILE)
    manifests.write(model_dir, Manifest.model_validate({
        **manifest.model_dump(), **described,
        "quantization": {"kept": kept, "gate": gate, "data": str(data or EVAL_FILE), "samples": int(len(features)),
                         "variants": report}}))
    return {"model": manifest.name, "kept": kept, "gate": gate, "data": str(data or EVAL_FILE),
            "samples": int(len(features)), "variants": report}
