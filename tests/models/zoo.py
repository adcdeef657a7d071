"""Models made from public packages (never fleetops' catalogue): a scikit-learn pickle, an
ONNX file, a TFLite file, PyTorch models in three forms, and labelled samples for them."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

LABELS = [str(i) for i in range(10)]


def digits():
    from sklearn import datasets
    from sklearn.model_selection import train_test_split

    data = datasets.load_digits()
    return train_test_split(data.data.astype(np.float32), data.target, test_size=0.3, random_state=0)


@pytest.fixture(scope="session")
def zoo(tmp_path_factory) -> dict[str, Path]:
    """Every source file, written once per session."""
    return build_zoo(tmp_path_factory.mktemp("byo-models"))


def build_zoo(root: Path) -> dict[str, Path]:
    """Write every source file into ``root``; their paths by kind (also used by the e2e test)."""
    import joblib
    import torch
    from skl2onnx import to_onnx
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression

    from tests.models.tflite_builder import softmax_classifier

    train_x, test_x, train_y, test_y = digits()
    files: dict[str, Path] = {}

    forest = RandomForestClassifier(n_estimators=25, random_state=0).fit(train_x, train_y)
    files["sklearn"] = root / "forest.joblib"
    joblib.dump(forest, files["sklearn"])

    logistic = LogisticRegression(max_iter=2000).fit(train_x / 16.0, train_y)
    files["onnx"] = root / "logistic.onnx"
    files["onnx"].write_bytes(
        to_onnx(logistic, train_x[:1] / 16.0, options={id(logistic): {"zipmap": False}}).SerializeToString()
    )
    files["tflite"] = root / "logistic.tflite"
    files["tflite"].write_bytes(softmax_classifier(logistic.coef_.astype(np.float32), logistic.intercept_))

    torch.manual_seed(0)
    mlp = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 10))
    cnn = torch.nn.Sequential(
        torch.nn.Conv2d(1, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(8 * 64, 10)
    )
    inputs, targets = torch.from_numpy(train_x / 16.0), torch.from_numpy(train_y.astype(np.int64))
    for net, shaped in ((mlp, inputs), (cnn, inputs.reshape(-1, 1, 8, 8))):
        optimiser = torch.optim.Adam(net.parameters(), lr=0.01)
        for _ in range(150):
            optimiser.zero_grad()
            torch.nn.functional.cross_entropy(net(shaped), targets).backward()
            optimiser.step()
        net.eval()
    files["torchscript"] = root / "mlp.pt"
    torch.jit.script(mlp).save(str(files["torchscript"]))
    files["torch-export"] = root / "mlp.pt2"
    torch.export.save(torch.export.export(mlp, (torch.zeros(1, 64),)), str(files["torch-export"]))
    (root / "netdef.py").write_text(
        "import torch\n\n\ndef Net():\n"
        "    return torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 10))\n"
    )
    files["weights"] = root / "mlp-weights.pth"
    torch.save(mlp.state_dict(), files["weights"])
    files["cnn"] = root / "cnn.pt"
    torch.jit.script(cnn).save(str(files["cnn"]))

    files["labels"] = root / "labels.txt"
    files["labels"].write_text("\n".join(LABELS) + "\n")
    files["csv"] = root / "digits.csv"
    with files["csv"].open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([f"p{i}" for i in range(64)] + ["label"])
        for row, label in zip(test_x, test_y):
            writer.writerow([*row.tolist(), int(label)])
    files["images"] = root / "images"
    from PIL import Image

    for index, (row, label) in enumerate(zip(test_x[:200], test_y[:200])):
        folder = files["images"] / str(int(label))
        folder.mkdir(parents=True, exist_ok=True)
        pixels = np.clip(row.reshape(8, 8) * 16, 0, 255).astype(np.uint8)  # 0..16 -> 0..255
        Image.fromarray(pixels, mode="L").save(folder / f"{index}.png")
    return files
