"""Keras/TensorFlow models through tf2onnx: a Keras 3 ``.keras`` file and a SavedModel, made here
with TensorFlow, imported by the CLI. Each runs in its own process: TensorFlow and torch are kept
out of one interpreter."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("tf2onnx", reason="the keras extra is not installed")

MAKE = """
import sys
import numpy as np, tensorflow as tf
from sklearn import datasets
tf.keras.utils.set_random_seed(0)
data = datasets.load_digits()
x, y = (data.data / 16.0).astype("float32"), data.target
model = tf.keras.Sequential([tf.keras.Input(shape=(64,)), tf.keras.layers.Dense(32, activation="relu"),
                             tf.keras.layers.Dense(10, activation="softmax")])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
model.fit(x[:1200], y[:1200], epochs=40, verbose=0)
model.save(sys.argv[1] + "/digits.keras")
model.export(sys.argv[1] + "/saved", verbose=False)
"""


@pytest.fixture(scope="module")
def keras_models(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("keras")
    subprocess.run([sys.executable, "-c", MAKE, str(root)], check=True, capture_output=True, timeout=600)
    return root


@pytest.mark.parametrize("source", ["digits.keras", "saved"])
def test_keras_and_saved_model_import(keras_models, zoo, tmp_path, source):
    out = tmp_path / "model"
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "fleetops"), "model", "import", str(keras_models / source), "--out", str(out),
         "--samples", str(zoo["csv"]), "--labels", str(zoo["labels"]), "--scale", "0.0625", "--json"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    manifest = json.loads(proc.stdout)
    assert manifest["source"]["format"] == "keras" and manifest["source"]["framework"].startswith("tensorflow ")
    assert manifest["source"]["sample_accuracy"] > 0.9 and manifest["interface"]["output"]["softmax"] is False
    assert (out / "model.onnx").is_file() and manifest["golden"] == 5
