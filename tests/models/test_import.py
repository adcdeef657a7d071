"""``fleetops model import`` on models made from public packages: each format imports, answers
its golden inputs, and every bad input is one line with nothing written."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

from fleetops.cli import app
from fleetops.errors import EnvironmentProblem, InputError
from fleetops.models import manifest as manifests
from fleetops.models.importer import ImportOptions, import_model
from fleetops.models.manifest import EVAL_FILE, MODEL_FILE
from fleetops.models.quantize import golden_problems

SCALE = {"input.scale": 1 / 16}
# a broken .h5: refused by tf2onnx where the keras extra is installed, else for want of it
KERAS_BROKEN = (
    "tf2onnx cannot convert it" if importlib.util.find_spec("tf2onnx") else "Keras/TensorFlow models need tensorflow"
)


def imported(zoo, tmp_path: Path, source: str, **options) -> tuple[Path, object]:
    out = tmp_path / "model"
    defaults = {"samples": zoo["csv"], "labels_file": zoo["labels"]}
    manifest = import_model(ImportOptions(source=zoo[source] if source in zoo else Path(source), out=out, **{**defaults, **options}))
    return out, manifest


@pytest.mark.parametrize(
    "source, options, output",
    [
        ("sklearn", {"trust_pickle": True, "labels_file": None}, "classifier"),
        ("onnx", {"flags": SCALE}, "classifier"),
        ("tflite", {"flags": SCALE}, "scores"),
        ("torchscript", {"flags": SCALE, "input_shape": [1, 64]}, "scores"),
        ("torch-export", {"flags": SCALE, "input_shape": [1, 64]}, "scores"),
    ],
)
def test_every_format_imports_and_answers_its_golden_inputs(zoo, tmp_path, source, options, output):
    out, manifest = imported(zoo, tmp_path, source, **options)
    assert manifest.interface.output.kind == output
    assert manifest.labels == [str(i) for i in range(10)]
    assert manifest.source["sample_accuracy"] > 0.9, manifest.source
    assert len(manifest.golden) == 5 and len({g.label for g in manifest.golden}) == 5  # spread over labels
    loaded = manifests.load(out)  # the sha256 matches the file
    assert golden_problems(out / MODEL_FILE, loaded) == []
    evaluation = np.load(out / EVAL_FILE)
    assert len(evaluation["x"]) == len(evaluation["y"]) == 540
    assert sorted(p.name for p in out.iterdir()) == [EVAL_FILE, "manifest.json", MODEL_FILE]


def test_logits_get_a_softmax_and_probabilities_do_not(zoo, tmp_path):
    _out, torch_manifest = imported(zoo, tmp_path, "torchscript", flags=SCALE, input_shape=[1, 64])
    assert torch_manifest.interface.output.softmax is True
    _out, tflite_manifest = imported(zoo, tmp_path / "t", "tflite", flags=SCALE)
    assert tflite_manifest.interface.output.softmax is False


def test_a_module_file_with_a_state_dict(zoo, tmp_path):
    source = f"{zoo['labels'].parent / 'netdef.py'}:Net"
    _out, manifest = imported(zoo, tmp_path, source, flags=SCALE, input_shape=[1, 64], weights=zoo["weights"])
    assert manifest.source["format"] == "torch-module" and manifest.source["sample_accuracy"] > 0.9


def test_an_image_model_from_a_folder_of_pngs(zoo, tmp_path):
    out, manifest = imported(zoo, tmp_path, "cnn", samples=zoo["images"], flags={"input.scale": 1 / 255},
                             input_shape=[1, 1, 8, 8])  # fmt: skip
    spec = manifest.interface.input
    assert (spec.kind, spec.layout, spec.shape, spec.dtype) == ("image", "NCHW", [8, 8, 1], "uint8")
    assert all(golden.data for golden in manifest.golden)  # raw pixels, as a camera client sends them
    assert golden_problems(out / MODEL_FILE, manifests.load(out)) == []


def nothing_written(tmp_path: Path) -> bool:
    return not (tmp_path / "model").exists() and not [p for p in tmp_path.iterdir() if p.name.startswith(".model")]


@pytest.mark.parametrize(
    "source, options, message",
    [
        ("sklearn", {}, "pass --trust-pickle"),
        ("truncated.joblib", {"trust_pickle": True}, "not a readable scikit-learn pickle"),
        ("truncated.onnx", {}, "not a readable ONNX model"),
        ("truncated.tflite", {}, "not a TFLite flatbuffer"),
        ("truncated.pt", {"input_shape": [1, 64]}, "not a TorchScript archive"),
        ("torchscript", {}, "give --input-shape"),
        ("torchscript", {"input_shape": [1, 63]}, "the ONNX export failed for input shape [1, 63]"),
        ("model.h5", {}, KERAS_BROKEN),
        ("model.xyz", {}, "unknown model format"),
    ],
)
def test_bad_sources_are_one_line_and_write_nothing(zoo, tmp_path, source, options, message):
    if source.startswith("truncated"):
        original = {"joblib": "sklearn", "onnx": "onnx", "tflite": "tflite", "pt": "torchscript"}[source.split(".")[1]]
        path = tmp_path / source
        data = zoo[original].read_bytes()
        path.write_bytes(data[: len(data) // 3] if original != "tflite" else b"\0" * 64)
        source = str(path)
    elif source.startswith("model."):
        (tmp_path / source).write_bytes(b"\0" * 64)
        source = str(tmp_path / source)
    with pytest.raises((InputError, EnvironmentProblem)) as error:
        imported(zoo, tmp_path, source, **options)
    assert message in str(error.value) and "\n" not in str(error.value)
    assert nothing_written(tmp_path)


def test_a_wrong_declared_shape_is_refused(zoo, tmp_path):
    interface = tmp_path / "interface.yml"
    interface.write_text(yaml.safe_dump({"input": {"kind": "image", "shape": [10, 10, 1], "layout": "flat"}}))
    with pytest.raises(InputError, match=r"wrong input shape: model input .*cannot take the declared 10x10x1 image"):
        imported(zoo, tmp_path, "onnx", interface_file=interface)
    assert nothing_written(tmp_path)


def test_labels_must_match_the_scores(zoo, tmp_path):
    short = tmp_path / "labels.txt"
    short.write_text("a\nb\nc\n")
    with pytest.raises(InputError, match="the model gives 10 scores but 3 labels were given"):
        imported(zoo, tmp_path, "tflite", labels_file=short, flags=SCALE)
    with pytest.raises(InputError, match="name them with --labels FILE"):
        imported(zoo, tmp_path, "tflite", labels_file=None, flags=SCALE)


def test_samples_with_unknown_labels_or_none_right(zoo, tmp_path):
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("p0,label\n1,cat\n")
    with pytest.raises(InputError, match="label 'cat' is not one of the model's labels"):
        imported(zoo, tmp_path, "sklearn", trust_pickle=True, labels_file=None, samples=wrong)
    with pytest.raises(InputError, match="answers none of the 540 samples"):
        imported(zoo, tmp_path, "tflite", flags={"input.scale": -5.0})
    assert nothing_written(tmp_path)


def test_import_evaluate_quantize_through_the_cli(zoo, tmp_path):
    runner = CliRunner()
    out = tmp_path / "tfl"
    result = runner.invoke(app, ["model", "import", str(zoo["tflite"]), "--out", str(out), "--samples", str(zoo["csv"]),
                                 "--labels", str(zoo["labels"]), "--scale", "0.0625", "--json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["interface"]["input"]["scale"] == 0.0625

    html, png = tmp_path / "eval.html", tmp_path / "confusion.png"
    result = runner.invoke(app, ["model", "evaluate", str(out), "--data", str(zoo["csv"]), "--json",
                                 "--html", str(html), "--png", str(png)])  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["samples"] == 540 and report["accuracy"] > 0.9
    assert sum(map(sum, report["confusion"]["matrix"])) == 540
    assert sum(c["support"] for c in report["classes"]) == 540
    assert 0 < report["latency_ms"]["p50"] <= report["latency_ms"]["p95"]
    assert "Confusion matrix" in html.read_text()
    from PIL import Image

    with Image.open(png) as picture:
        assert picture.format == "PNG" and picture.size[0] > 300

    result = runner.invoke(app, ["model", "quantize", str(out), "--data", str(zoo["csv"]), "--gate", "0.98", "--json"])
    assert result.exit_code == 0, result.output
    quantized = json.loads(result.stdout)
    assert quantized["samples"] == 540 and quantized["data"] == str(zoo["csv"])
    assert quantized["variants"][quantized["kept"]]["passed"]

    bad = runner.invoke(app, ["model", "import", str(zoo["tflite"]), "--out", str(tmp_path / "x"), "--samples",
                              str(zoo["csv"]), "--input-shape", "1,-3"])  # fmt: skip
    assert bad.exit_code == 2 and "every dimension must be positive" in bad.output
    again = runner.invoke(app, ["model", "import", str(zoo["tflite"]), "--out", str(out), "--samples", str(zoo["csv"])])
    assert again.exit_code == 2 and "exists and is not empty" in again.output
