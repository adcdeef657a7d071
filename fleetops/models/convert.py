"""scikit-learn models for ``fleetops model convert``, trained reproducibly and converted with skl2onnx.

No download: ``iris`` (logistic regression, tabular) and ``digits`` (a small MLP on 8x8 images)
use the toy datasets inside scikit-learn; ``ops-text`` (TF-IDF + logistic regression on ops log
messages, string input) uses :mod:`fleetops.models.text_corpus`. Pretrained vision, speech and
TFLite models are in :mod:`fleetops.models.pretrained`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from fleetops.errors import InputError
from fleetops.fileutil import atomic_write_bytes
from fleetops.models import manifest as manifests
from fleetops.models.manifest import EVAL_FILE, MODEL_FILE, Golden, Manifest

DATASETS = ("iris", "digits", "ops-text")
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
    if dataset == "ops-text":
        return convert_text(out_dir, name=name, version=version)
    from skl2onnx import to_onnx

    model, train_x, test_x, test_y, task, labels = _train(dataset)
    onnx_model = to_onnx(model, train_x[:1], target_opset={"": 15, "ai.onnx.ml": 3},
                         options={id(model): {"zipmap": False}})
    out_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(out_dir / MODEL_FILE, onnx_model.SerializeToString(), mode=0o644)
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
        "interface": ({"input": {"kind": "tabular"}} if dataset == "iris" else
                      {"input": {"kind": "image", "shape": [8, 8, 1], "layout": "flat"}}),
        "source": {"framework": "scikit-learn", "dataset": dataset, "seed": SEED,
                   "sklearn_accuracy": round(float(np.mean(predicted == test_y)), 4)},
        **manifests.describe(out_dir / MODEL_FILE)})
    manifests.write(out_dir, manifest)
    return manifest


def convert_text(out_dir: Path, name: str | None = None, version: str = "1") -> Manifest:
    """The ops-message classifier: string in, category out (golden inputs are held-out messages)."""
    from skl2onnx import to_onnx
    from skl2onnx.common.data_types import StringTensorType
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from fleetops.models.text_corpus import CATEGORIES, HELD_OUT, MESSAGES

    labels = list(CATEGORIES)
    texts = [text for category in labels for text in MESSAGES[category]]
    targets = np.array([labels.index(category) for category in labels for _ in MESSAGES[category]])
    # lowercase=False: skl2onnx's tokenizer cannot lowercase without an en_US.UTF-8 locale,
    # and the corpus is lower case already
    model = make_pipeline(TfidfVectorizer(lowercase=False, ngram_range=(1, 1)),
                          LogisticRegression(C=10.0, max_iter=1000, random_state=SEED))
    model.fit(texts, targets)
    onnx_model = to_onnx(model, initial_types=[("text", StringTensorType([None, 1]))],
                         target_opset={"": 15, "ai.onnx.ml": 3}, options={id(model): {"zipmap": False}})
    out_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(out_dir / MODEL_FILE, onnx_model.SerializeToString(), mode=0o644)
    held_texts = [text for _category, text in HELD_OUT]
    held_targets = np.array([labels.index(category) for category, _text in HELD_OUT])
    eval_x = np.array(held_texts + texts)
    eval_y = np.concatenate([held_targets, targets])
    np.savez_compressed(out_dir / EVAL_FILE, x=eval_x, y=eval_y, calibration=np.array(texts[:16]))
    probabilities = model.predict_proba(held_texts)
    golden = []
    for (category, text), scores in zip(HELD_OUT, probabilities):
        predicted = labels[int(np.argmax(scores))]
        if predicted != category:
            raise InputError(f"ops-text: held-out message {text!r} classified {predicted}, not {category}")
        golden.append(Golden(text=text, label=category, min_score=round(0.5 * float(scores.max()), 4),
                             note="held-out message"))
    manifest = Manifest.model_validate({
        "name": name or "ops-text", "version": version, "task": "text-classification", "labels": labels,
        "golden": [item.model_dump() for item in golden],
        "interface": {"input": {"kind": "text"}},
        "source": {"framework": "scikit-learn", "dataset": "fleetops.models.text_corpus", "seed": SEED,
                   "sklearn_accuracy": round(float(np.mean(model.predict(list(eval_x)) == eval_y)), 4)},
        **manifests.describe(out_dir / MODEL_FILE)})
    manifests.write(out_dir, manifest)
    return manifest
