"""The bundled pretrained models, built as `fleetops model convert` builds them, behave as real models
should: the page's rotation is recognised, faces are found where there are faces, speech where
somebody speaks, ops messages are routed (their golden inputs answered by the app's own Runner)."""

from __future__ import annotations

import pytest

from fleetops.errors import InputError
from fleetops.models import manifest as manifests
from fleetops.models import runtime, zoo


@pytest.mark.parametrize(
    "name, labels, task",
    [
        ("orientation", ["0", "90", "180", "270"], "image-classification"),
        ("face", ["no face", "face"], "face-detection"),
        ("vad", ["silence", "speech"], "voice-activity-detection"),
        ("ops-text", ["disk", "network", "auth", "service"], "text-classification"),
    ],
)
def test_bundled_model_builds_and_answers_its_golden_inputs(tmp_path, name, labels, task):
    manifest = zoo.build(name, tmp_path / name)
    assert manifests.load(tmp_path / name).sha256 == manifest.sha256  # file matches the manifest
    assert manifest.labels == labels and manifest.task == task
    assert {golden.label for golden in manifest.golden} == set(labels)  # every label is exercised
    assert runtime.runner(tmp_path / name / "model.onnx", manifest).check_golden() == []


def test_unknown_catalogue_model_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="unknown model 'mnist'"):
        zoo.build("mnist", tmp_path / "x")


def test_pytorch_model_exports_and_agrees_with_torch(tmp_path):
    pytest.importorskip("torch", reason="the test extra installs torch==2.13.0 (CPU)")
    manifest = zoo.build("digits-torch", tmp_path / "t")
    assert manifest.source["torch_accuracy"] >= 0.9 and manifest.interface.output.softmax
    assert runtime.runner(tmp_path / "t" / "model.onnx", manifest).check_golden() == []
