"""The model interface shared by the edge app and the controller: decoding, preprocessing, reading
outputs, shape checks, config fit and the detection rule (pure; real onnxruntime on tiny models)."""

from __future__ import annotations

import numpy as np
import pytest

from fleetops.edge import app
from fleetops.edge.inference import InputSpec, Interface, Runner, encode, payload_of
from fleetops.models import runtime
from fleetops.models.convert import convert_sklearn
from fleetops.models.manifest import Manifest


@pytest.fixture(scope="module")
def digits(tmp_path_factory):
    directory = tmp_path_factory.mktemp("m") / "digits"
    manifest = convert_sklearn("digits", directory)
    return directory, manifest


def test_digits_answer_the_same_from_numbers_and_from_raw_bytes(digits):
    directory, manifest = digits
    model = runtime.runner(directory / "model.onnx", manifest)
    golden = manifest.golden[0]
    label, confidence, ms = model.run(payload_of(golden.model_dump()))
    raw = np.asarray(golden.input, dtype=np.float32).reshape(8, 8, 1)
    assert label == golden.label and confidence >= golden.min_score and ms > 0
    assert model.run({"data": encode(raw, "float32")})[0] == golden.label


@pytest.mark.parametrize(
    "payload, message",
    [
        ({}, "exactly one of"),
        ({"input": [[1.0]], "text": "x"}, "exactly one of"),
        ({"text": "hello"}, "not text"),
        ({"input": [[1.0, 2.0]]}, "needs 8x8x1 = 64 samples, got 2"),
        ({"data": "%%%"}, "not base64"),
        ({"data": "AAA="}, "whole number of float32"),
    ],
)
def test_bad_requests_are_refused_with_a_reason(digits, payload, message):
    directory, manifest = digits
    with pytest.raises(ValueError, match=message):
        runtime.runner(directory / "model.onnx", manifest).run(payload)


def test_a_model_that_cannot_take_its_declared_input_is_refused(digits):
    directory, manifest = digits
    wrong = manifest.model_dump(exclude_none=True)
    wrong["interface"] = {"input": {"kind": "image", "shape": [28, 28, 1], "layout": "flat"}}
    with pytest.raises(ValueError, match=r"wrong input shape: model input .*\[None, 64\].*28x28x1"):
        Runner(runtime.session(directory / "model.onnx"), wrong)


def test_outputs_are_read_as_declared():
    labels = ["no", "yes"]
    runner = Runner.__new__(Runner)
    runner.np, runner.labels, runner.output_index = np, labels, 0
    runner.interface = Interface.model_validate(
        {"output": {"kind": "binary", "reduce": "max", "activation": "sigmoid"}}
    )
    assert runner.interpret([np.array([[-4.0], [2.0]])])[0] == "yes"
    assert runner.interpret([np.array([[-4.0], [-3.0]])]) == ("no", pytest.approx(1 - 1 / (1 + np.exp(3.0))))
    runner.interface = Interface.model_validate({"output": {"kind": "scores", "softmax": True}})
    label, confidence = runner.interpret([np.array([[1.0, 3.0]])])
    assert label == "yes" and confidence == pytest.approx(np.exp(3) / (np.exp(1) + np.exp(3)))


def test_audio_is_framed_with_context():
    runner = Runner.__new__(Runner)
    runner.np, runner.scale = np, 1.0
    runner.mean, runner.std = np.zeros(1, np.float32), np.ones(1, np.float32)
    runner.interface = Interface(input=InputSpec(kind="audio", sample_rate=16000, frame=4, context=2))
    frames = runner.prepare(np.arange(10, dtype=np.float32))
    assert frames.shape == (2, 6)
    assert frames[0].tolist() == [0, 0, 0, 1, 2, 3] and frames[1].tolist() == [2, 3, 4, 5, 6, 7]


def test_gateway_config_refuses_a_model_that_does_not_fit():
    config = app.Config(model_path="/m", input_kind="image", image_size=[8, 8], channels=1)
    assert app.misfit(config, InputSpec(kind="image", shape=[8, 8, 1])) is None
    assert "224x224" in app.misfit(config, InputSpec(kind="image", shape=[224, 224, 3]))
    assert "tabular" in app.misfit(config, InputSpec(kind="tabular"))
    audio = app.Config(model_path="/m", sample_rate=8000)
    assert "16000 Hz" in app.misfit(audio, InputSpec(kind="audio", sample_rate=16000))
    assert app.misfit(app.Config(model_path="/m"), InputSpec(kind="text")) is None


def test_detections_need_consecutive_confident_frames():
    detector = app.Detector(
        app.Config(model_path="/m", confidence_threshold=0.6, confirm_frames=3, event_labels=["face"])
    )
    seen = [
        detector.observe(label, conf)
        for label, conf in [
            ("face", 0.9),
            ("face", 0.9),
            ("face", 0.5),
            ("face", 0.9),
            ("face", 0.9),
            ("face", 0.7),
            ("no face", 0.99),
            ("face", 0.9),
        ]
    ]
    assert seen == [None, None, None, None, None, 3, None, None]


def test_golden_inputs_need_exactly_one_payload():
    base = {
        "name": "m",
        "version": "1",
        "task": "t",
        "sha256": "0" * 64,
        "size_bytes": 1,
        "opset": 15,
        "inputs": [],
        "outputs": [],
        "labels": ["a"],
    }
    with pytest.raises(ValueError, match="exactly one of input, data, text"):
        Manifest.model_validate({**base, "golden": [{"label": "a", "input": [[1]], "text": "x"}]})
    assert Manifest.model_validate({**base, "golden": [{"label": "a", "text": "x"}]}).golden[0].text == "x"
