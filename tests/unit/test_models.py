"""The model pipeline on real onnxruntime: convert, manifest integrity, quantization gate."""

import json
import shutil

import pytest
from click.testing import CliRunner

from fleetops.cli import app
from fleetops.errors import InputError
from fleetops.models import manifest as manifests
from fleetops.models import runtime
from fleetops.models.convert import convert_sklearn
from fleetops.models.quantize import golden_ok, quantize


@pytest.fixture(scope="module")
def digits(tmp_path_factory):
    directory = tmp_path_factory.mktemp("models") / "digits"
    convert_sklearn("digits", directory)
    return directory


def test_convert_writes_a_consistent_model_directory(digits):
    manifest = manifests.load(digits)  # sha256 checked against model.onnx
    assert manifest.inputs[0].shape == [None, 64] and manifest.labels == [str(i) for i in range(10)]
    assert manifest.opset == 15 and len(manifest.golden) == 5
    assert golden_ok(digits / "model.onnx", manifest)
    import numpy as np

    evaluation = np.load(digits / "eval.npz")
    # the ONNX model, fed through the app's own interface code, agrees with scikit-learn
    onnx_accuracy = runtime.accuracy(runtime.runner(digits / "model.onnx", manifest), evaluation["x"], evaluation["y"])
    assert round(onnx_accuracy, 4) == manifest.source["sklearn_accuracy"]


def test_tampered_model_is_refused(digits, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(digits, copy)
    data = bytearray((copy / "model.onnx").read_bytes())
    data[-10] ^= 0xFF
    (copy / "model.onnx").write_bytes(bytes(data))
    with pytest.raises(InputError, match="does not match the manifest"):
        manifests.load(copy)
    (copy / "manifest.json").write_text("{")
    with pytest.raises(InputError, match="not JSON"):
        manifests.load(copy)


def test_quantize_keeps_a_passing_variant_and_records_every_measurement(digits, tmp_path):
    copy = tmp_path / "q"
    shutil.copytree(digits, copy)
    report = quantize(copy, gate=0.99)
    variants = report["variants"]
    assert set(variants) == {"fp32", "int8-dynamic", "int8-static"}
    kept = variants[report["kept"]]
    assert kept["passed"] and kept["accuracy"] >= 0.99 * variants["fp32"]["accuracy"]
    assert variants["int8-dynamic"]["size_bytes"] < variants["fp32"]["size_bytes"]
    manifest = manifests.load(copy)  # the kept file matches the updated manifest
    assert manifest.quantization["kept"] == report["kept"]
    assert golden_ok(copy / "model.onnx", manifest)
    with pytest.raises(InputError, match="already quantized|fp32"):
        if report["kept"] != "fp32":
            quantize(copy)
        else:
            raise InputError("fp32")


def test_a_strict_gate_rejects_a_less_accurate_variant(digits, tmp_path):
    copy = tmp_path / "strict"
    shutil.copytree(digits, copy)
    report = quantize(copy, gate=1.0)
    for row in report["variants"].values():
        if row["built"] and row["accuracy"] < report["variants"]["fp32"]["accuracy"]:
            assert row["passed"] is False
    assert report["variants"][report["kept"]]["accuracy"] == report["variants"]["fp32"]["accuracy"]
    with pytest.raises(InputError, match="--gate"):
        quantize(copy, gate=1.5)


def test_cli_convert_and_inspect(tmp_path):
    runner = CliRunner()
    result = runner.invoke(app, ["model", "convert", "--dataset", "iris", "--out", str(tmp_path / "iris"), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["labels"] == ["setosa", "versicolor", "virginica"]
    result = runner.invoke(app, ["model", "inspect", str(tmp_path / "iris")])
    assert result.exit_code == 0 and "golden inputs" in result.output
    result = runner.invoke(app, ["model", "inspect", str(tmp_path / "nothing")])
    assert result.exit_code == 2 and "no manifest.json" in result.output
    result = runner.invoke(app, ["model", "convert", "--dataset", "mnist", "--out", str(tmp_path / "x")])
    assert result.exit_code == 2


def test_cli_convert_needs_a_model_and_lists_the_catalogue(tmp_path):
    runner = CliRunner()
    result = runner.invoke(app, ["model", "convert", "--out", str(tmp_path / "x")])
    assert result.exit_code == 2 and "name a model with --model" in result.output
    result = runner.invoke(app, ["model", "convert", "--all", "--name", "n", "--out", str(tmp_path / "x")])
    assert result.exit_code == 2 and "--name applies to one model only" in result.output
    assert not (tmp_path / "x").exists()  # nothing was built
    result = runner.invoke(app, ["model", "list", "--json"])
    assert result.exit_code == 0
    assert {row["model"] for row in json.loads(result.stdout)} >= {"iris", "orientation", "face", "vad", "ops-text"}
