"""``fleetops model evaluate``: accuracy, per-class precision and recall, a confusion matrix and
latency of a model directory on a labelled set, through the app's own Runner.

The numbers come from scikit-learn's metrics; the matrix is printed as a table, and can be
written as HTML (a heat-mapped table) or PNG (drawn with Pillow), for a report or a hand-in.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from fleetops.fileutil import atomic_write_bytes, atomic_write_text
from fleetops.models import datasets, runtime
from fleetops.models import manifest as manifests
from fleetops.models.manifest import MODEL_FILE


def evaluate(model_dir: Path, data: Path) -> dict:
    """The evaluation report of ``model_dir`` on ``data`` (see the module docstring)."""
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    manifest = manifests.load(model_dir)
    runner = runtime.runner(model_dir / MODEL_FILE, manifest)
    features, expected = datasets.load(data, runner.interface, manifest.labels)
    labels = manifest.labels
    predicted = np.array(
        [labels.index(runner.run(runtime.sample_payload(sample))[0]) for sample in features], dtype=np.int64
    )
    indices = list(range(len(labels)))
    precision, recall, _f1, support = precision_recall_fscore_support(
        expected, predicted, labels=indices, zero_division=0
    )
    matrix = confusion_matrix(expected, predicted, labels=indices)
    return {
        "model": manifest.name,
        "version": manifest.version,
        "data": str(data),
        "samples": int(len(features)),
        "accuracy": round(float(np.mean(predicted == expected)), 4),
        "classes": [
            {
                "label": label,
                "precision": round(float(precision[i]), 4),
                "recall": round(float(recall[i]), 4),
                "support": int(support[i]),
            }
            for i, label in enumerate(labels)
        ],
        "confusion": {"labels": labels, "matrix": matrix.tolist()},
        "latency_ms": runtime.latency_ms(runner, features),
    }


def write_html(report: dict, path: Path) -> None:
    from fleetops.render import render

    matrix = report["confusion"]["matrix"]
    peak = max(1, max(max(row) for row in matrix))
    atomic_write_text(path, render("reports/model-eval.html.j2", report=report, peak=peak), mode=0o644)


def write_png(report: dict, path: Path, cell: int = 36) -> None:
    """The confusion matrix as a heat-mapped grid: rows are the true labels, columns the predictions."""
    from io import BytesIO

    from PIL import Image, ImageDraw

    labels, matrix = report["confusion"]["labels"], report["confusion"]["matrix"]
    margin = 12 + 7 * max(len(label) for label in labels)
    size = margin + cell * len(labels) + 12
    image = Image.new("RGB", (size, size + 20), "white")
    draw = ImageDraw.Draw(image)
    peak = max(1, max(max(row) for row in matrix))
    draw.text((margin, 4), f"{report['model']}: accuracy {report['accuracy']:.3f} (rows true, columns predicted)",
              fill="black")
    for i, label in enumerate(labels):
        draw.text((4, 20 + margin + i * cell + cell // 3), label[:12], fill="black")
        draw.text((margin + i * cell + 4, 20 + margin - 14), label[:4], fill="black")
        for j, count in enumerate(matrix[i]):
            shade = int(255 * (1 - count / peak))
            colour = (shade, 255, shade) if i == j else (255, shade, shade)
            box = (margin + j * cell, 20 + margin + i * cell, margin + (j + 1) * cell - 1, 20 + margin + (i + 1) * cell - 1)
            draw.rectangle(box, fill=colour if count else "white", outline="#cccccc")
            if count:
                draw.text((box[0] + 6, box[1] + cell // 3), str(count), fill="black")
    buffer = BytesIO()
    image.save(buffer, format="PNG")
    atomic_write_bytes(path, buffer.getvalue(), mode=0o644)
