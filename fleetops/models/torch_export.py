"""A PyTorch model for ``fleetops model convert``: an MLP on scikit-learn's digits, exported to ONNX.

Needs torch (``pip install torch==2.13.0`` installs the CPU build; a bare ``torch`` pulls the CUDA
one). Training is deterministic (fixed seed, full-batch, one thread); the export uses the
TorchScript exporter (``dynamo=False``: the dynamo exporter needs onnxscript). The model outputs
logits, so its interface reads them as scores with a softmax.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from fleetops.errors import EnvironmentProblem, InputError
from fleetops.models import manifest as manifests
from fleetops.models import runtime
from fleetops.models.manifest import EVAL_FILE, MODEL_FILE, Golden, Manifest

SEED, EPOCHS = 0, 300


def digits_torch(out_dir: Path, name: str | None = None, version: str = "1") -> Manifest:
    try:
        import torch
    except ImportError:
        raise EnvironmentProblem("torch is not installed: pip install torch==2.13.0 (the CPU build)") from None
    from sklearn import datasets
    from sklearn.model_selection import train_test_split

    torch.manual_seed(SEED)
    torch.set_num_threads(1)
    data = datasets.load_digits()
    features = data.data.astype(np.float32)
    train_x, test_x, train_y, test_y = train_test_split(
        features, data.target, test_size=0.3, random_state=SEED, stratify=data.target)
    model = torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.ReLU(), torch.nn.Linear(64, 10))
    optimiser = torch.optim.Adam(model.parameters(), lr=0.01)
    inputs, targets = torch.from_numpy(train_x / 16.0), torch.from_numpy(train_y.astype(np.int64))
    for _ in range(EPOCHS):
        optimiser.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(inputs), targets)
        loss.backward()
        optimiser.step()
    model.eval()
    out_dir.mkdir(parents=True, exist_ok=True)
    torch.onnx.export(model, (torch.zeros(1, 64),), str(out_dir / MODEL_FILE), input_names=["pixels"],
                      output_names=["logits"], dynamic_axes={"pixels": {0: "batch"}, "logits": {0: "batch"}},
                      opset_version=17, dynamo=False)
    with torch.no_grad():
        logits = model(torch.from_numpy(test_x / 16.0)).numpy()
    predicted = logits.argmax(axis=1)
    accuracy = float(np.mean(predicted == test_y))
    if accuracy < 0.9:
        raise InputError(f"digits-torch: accuracy {accuracy:.3f} after training; expected at least 0.9")
    labels = [str(label) for label in data.target_names]
    np.savez_compressed(out_dir / EVAL_FILE, x=test_x, y=test_y, calibration=train_x[:200])
    probabilities = np.exp(logits - logits.max(axis=1, keepdims=True))
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    golden = [Golden(input=[test_x[i].tolist()], label=labels[int(predicted[i])],
                     min_score=round(0.5 * float(probabilities[i].max()), 4), note="held-out digit")
              for i in np.flatnonzero(predicted == test_y)[:5]]
    manifest = Manifest.model_validate({
        "name": name or "digits-torch", "version": version, "task": "image-classification", "labels": labels,
        "golden": [item.model_dump() for item in golden],
        "interface": {"input": {"kind": "image", "shape": [8, 8, 1], "layout": "flat", "scale": 1 / 16},
                      "output": {"kind": "scores", "softmax": True}},
        "source": {"framework": f"torch {torch.__version__}", "dataset": "digits", "seed": SEED,
                   "torch_accuracy": round(accuracy, 4), "exporter": "torch.onnx.export (dynamo=False)"},
        **manifests.describe(out_dir / MODEL_FILE)})
    problems = runtime.runner(out_dir / MODEL_FILE, manifest).check_golden()
    if problems:
        raise InputError(f"digits-torch: the exported model disagrees with torch: {problems[0]}")
    manifests.write(out_dir, manifest)
    return manifest
