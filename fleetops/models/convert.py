"""``fleetops model convert``: produce an ONNX model directory from a trained model.

Sources so far: scikit-learn (via skl2onnx), trained reproducibly from the toy datasets that ship
inside scikit-learn (no download): ``iris`` (logistic regression, tabular) and ``digits`` (a small
MLP on 8x8 images). TFLite and PyTorch sources are not wired in yet.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from fleetops.errors import InputError
from fleetops.fileutil import atomic_write_bytes
from fleetops.models import manifest as manifests
from fleetops.models.manifest import EVAL_FILE, MODEL_FILE, Golden, Manifest

DATASETS = ("iris", "digits")
SEED = 0


def _train(dataset: str):
    from sklearn import datasets
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    loader = {"iris": datasets.load_iris, "digits": datasets.load_digits}[dataset]
    data = loader()
    features = data.data.astype(np.float32)
    train_x, test_x, train_y, test_y = train_test_split(
        features, data.target, test_size=0.3, random_state=SEED, stratify=data.target)
    if dataset == "iris":
        model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500, random_state=SEED))
        task, labels = "tabular-classification", [str(name) for name in data.target_names]
    else:
        model = make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(128, 64),
                                                              max_iter=400, random_state=SEED))
        task, labels = "image-classification", [str(name) for name in data.target_names]
    model.fit(train_x, train_y)
    return model, train_x, test_x, test_y, task, labels


def convert_sklearn(dataset: str, out_dir: Path, name: str | None = None, version: str = "1") -> Manifest:
    """Train on a bundled dataset, convert to ONNX, write the model directory; returns its manifest."""
    if dataset not in DATASETS:
        raise InputError(f"unknown dataset {dataset!r} (choose from {', '.join(DATASETS)})")
    os.environ.setdefault("PYTHONHASHSEED", "0")
    from skl2onnx import to_onnx

    model, train_x, test_x, test_y, task, labels = _train(dataset)
    onnx_model = to_onnx(model, train_x[:1], target_opset={"": 15, "ai.onnx.ml": 3},
                         options={id(model): {"zipmap": False}})
    out_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(out_dir / MODEL_FILE, onnx_model.SerializeToString())
    np.savez_compressed(out_dir / EVAL_FILE, x=test_x, y=test_y, calibration=train_x[:200])

    predicted = model.predict(test_x)
    probabilities = model.predict_proba(test_x)
    golden = []
    for index in np.flatnonzero(predicted == test_y)[:5]:
        label = int(predicted[index])
        golden.append(Golden(input=[test_x[index].round(6).tolist()], label=labels[label],
                             min_score=round(0.5 * float(probabilities[index][label]), 4)))
    manifest = Manifest.model_validate({
        "name": name or f"{dataset}-{'logreg' if dataset == 'iris' else 'mlp'}", "version": version,
        "task": task, "labels": labels, "golden": [item.model_dump() for item in golden],
        "source": {"framework": "scikit-learn", "dataset": dataset, "seed": SEED,
                   "sklearn_accuracy": round(float(np.mean(predicted == test_y)), 4)},
        **manifests.describe(out_dir / MODEL_FILE)})
    manifests.write(out_dir, manifest)
    return manifest
