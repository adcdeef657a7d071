"""A user's trained model, in whatever format it came, turned into one ONNX file.

Formats: ONNX (checked as is), TFLite (tflite2onnx), PyTorch (a TorchScript archive, an
``torch.export`` program, or ``file.py:Name`` with ``--weights``; exported with the TorchScript
exporter), scikit-learn (joblib/pickle, skl2onnx) and Keras/TensorFlow (tf2onnx, from the ``keras``
extra). Every failure (a truncated file, an op the converter does not know, a
missing example shape) is one ``InputError`` line; conversion writes only into the caller's
scratch directory, so a failed import leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from fleetops.errors import EnvironmentProblem, InputError

FORMATS = ("onnx", "tflite", "torchscript", "torch-export", "torch-module", "sklearn", "keras")
SUFFIXES = {
    ".onnx": "onnx",
    ".tflite": "tflite",
    ".pt": "torchscript",
    ".pth": "torchscript",
    ".torchscript": "torchscript",
    ".pt2": "torch-export",
    ".joblib": "sklearn",
    ".pkl": "sklearn",
    ".pickle": "sklearn",
    ".keras": "keras",
    ".h5": "keras",
}
OPSET = 17


@dataclass
class Converted:
    """The ONNX file and what the source told us on the way (labels, framework)."""

    path: Path
    framework: str
    labels: list[str] = field(default_factory=list)
    classifier: bool = False  # skl2onnx's (label, probabilities) outputs


def detect(source: Path) -> str:
    """The format of ``source`` from its name and, where it says, its first bytes."""
    if source.is_dir():
        if (source / "saved_model.pb").is_file():
            return "keras"
        raise InputError(f"{source}: a folder, but not a TensorFlow SavedModel (no saved_model.pb)")
    if ":" in source.name and source.name.split(":")[0].endswith(".py"):
        return "torch-module"
    fmt = SUFFIXES.get(source.suffix.lower())
    if fmt is None:
        raise InputError(f"{source}: unknown model format (use one of: {', '.join(sorted(SUFFIXES))}, or file.py:Name)")
    return fmt


def to_onnx(
    source: Path,
    fmt: str,
    work: Path,
    example_shape: list[int] | None = None,
    trust_pickle: bool = False,
    weights: Path | None = None,
) -> Converted:
    """Convert ``source`` into ``work/model.onnx``."""
    out = work / "model.onnx"
    if fmt != "torch-module" and not source.exists():
        raise InputError(f"model not found: {source}")
    if fmt == "onnx":
        out.write_bytes(source.read_bytes())
        return Converted(out, "onnx")
    if fmt == "tflite":
        return _tflite(source, out)
    if fmt in ("torchscript", "torch-export", "torch-module"):
        return _torch(source, fmt, out, example_shape, weights)
    if fmt == "sklearn":
        return _sklearn(source, out, trust_pickle)
    if fmt == "keras":
        return _keras(source, out)
    raise InputError(f"unknown format {fmt!r} (one of {', '.join(FORMATS)})")


def _tflite(source: Path, out: Path) -> Converted:
    data = source.read_bytes()
    if data[4:8] != b"TFL3":
        raise InputError(f"{source}: not a TFLite flatbuffer (no TFL3 identifier; truncated or another format)")
    import tflite2onnx

    try:  # tflite2onnx prints a line per float16 tensor it folds
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            tflite2onnx.convert(str(source), str(out))
    except Exception as error:  # noqa: BLE001 - the converter raises bare exceptions for unknown ops
        raise InputError(f"{source}: tflite2onnx cannot convert it: {_line(error)}") from None
    return Converted(out, f"tflite (tflite2onnx {getattr(tflite2onnx, '__version__', '?')})")


def _torch(source: Path, fmt: str, out: Path, example_shape: list[int] | None, weights: Path | None) -> Converted:
    try:
        import torch
    except ImportError:
        raise EnvironmentProblem("PyTorch models need torch: pip install torch==2.13.0 (the CPU build)") from None
    if not example_shape:
        raise InputError(
            f"{source}: a PyTorch model has no fixed input shape: give --input-shape (e.g. 1,3,32,32) "
            "or input.shape in --interface"
        )
    if fmt == "torchscript" and not zipfile.is_zipfile(source):
        raise InputError(f"{source}: not a TorchScript archive (a zip; truncated, or a bare state_dict?)")
    try:
        if fmt == "torchscript":
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)  # TorchScript still loads; users still ship it
                module = torch.jit.load(str(source), map_location="cpu")
        elif fmt == "torch-export":
            module = _unregistered(torch.export.load(str(source)).module(), torch)
        else:
            module = _module_from_file(source, weights, torch)
        if fmt != "torch-export":  # an exported program is already in inference form (and refuses eval())
            module.eval()
    except InputError:
        raise
    except Exception as error:  # noqa: BLE001 - torch raises many types for broken files
        raise InputError(f"{source}: cannot load the PyTorch model: {_line(error)}") from None
    example = torch.zeros(*example_shape)
    try:
        with (
            contextlib.redirect_stdout(io.StringIO()),
            contextlib.redirect_stderr(io.StringIO()),
            warnings.catch_warnings(),
        ):
            warnings.simplefilter("ignore")  # the exporter's tracer warnings are about its own internals
            torch.onnx.export(
                module,
                (example,),
                str(out),
                input_names=["input"],
                output_names=["output"],
                dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
                opset_version=OPSET,
                dynamo=False,  # the dynamo exporter needs onnxscript
            )
    except Exception as error:  # noqa: BLE001
        raise InputError(f"{source}: the ONNX export failed for input shape {example_shape}: {_line(error)}") from None
    return Converted(out, f"torch {torch.__version__} (torch.onnx.export, TorchScript exporter)")


def _unregistered(program, torch):
    """An exported program's module behind a plain Module that does not register it: the
    TorchScript exporter calls ``train(False)``, which an exported program refuses."""

    for parameter in program.parameters():  # traced in as constants, which may not need grad
        parameter.requires_grad_(False)

    class Exported(torch.nn.Module):  # type: ignore[name-defined]  # torch is imported lazily
        def __init__(self) -> None:
            super().__init__()
            object.__setattr__(self, "program", program)

        def forward(self, *args):
            return self.program(*args)

    return Exported()


def _module_from_file(spec: Path, weights: Path | None, torch):
    """``net.py:Net`` (a class or factory taking no arguments) with a ``state_dict`` from --weights."""
    file_name, _, attr = str(spec).rpartition(":")
    path = Path(file_name)
    if not path.is_file():
        raise InputError(f"model code not found: {path}")
    loader = importlib.util.spec_from_file_location(f"fleetops_user_model_{path.stem}", path)
    if loader is None or loader.loader is None:
        raise InputError(f"{path}: not a Python file")
    module = importlib.util.module_from_spec(loader)
    loader.loader.exec_module(module)
    factory = getattr(module, attr, None)
    if factory is None:
        raise InputError(f"{path} has no {attr!r}")
    net = factory() if callable(factory) and not isinstance(factory, torch.nn.Module) else factory
    if not isinstance(net, torch.nn.Module):
        raise InputError(f"{path}:{attr} did not give a torch.nn.Module")
    if weights is not None:
        state = torch.load(str(weights), map_location="cpu", weights_only=True)  # tensors only, no code
        try:
            net.load_state_dict(state)
        except RuntimeError as error:
            raise InputError(f"{weights}: does not fit {attr}: {_line(error)}") from None
    return net


def _sklearn(source: Path, out: Path, trust_pickle: bool) -> Converted:
    if not trust_pickle:
        raise InputError(
            f"{source}: loading a pickle runs whatever code it holds; pass --trust-pickle for a file you made yourself"
        )
    import joblib
    from skl2onnx import to_onnx
    from skl2onnx.common.data_types import FloatTensorType

    try:
        estimator = joblib.load(source)
    except Exception as error:  # noqa: BLE001 - truncated pickles raise EOFError, UnpicklingError, ...
        raise InputError(f"{source}: not a readable scikit-learn pickle ({type(error).__name__})") from None
    features = getattr(estimator, "n_features_in_", None)
    if not hasattr(estimator, "predict") or not features:
        raise InputError(f"{source}: not a fitted scikit-learn estimator (no predict / n_features_in_)")
    classes = getattr(estimator, "classes_", None)
    options = {id(estimator): {"zipmap": False}} if classes is not None else None
    try:
        onnx_model = to_onnx(
            estimator,
            initial_types=[("input", FloatTensorType([None, int(features)]))],
            target_opset={"": 15, "ai.onnx.ml": 3},
            options=options,
        )
    except Exception as error:  # noqa: BLE001 - skl2onnx: MissingShapeCalculator etc.
        raise InputError(f"{source}: skl2onnx cannot convert {type(estimator).__name__}: {_line(error)}") from None
    out.write_bytes(onnx_model.SerializeToString())
    import sklearn

    labels = [str(label) for label in classes] if classes is not None else []
    return Converted(out, f"scikit-learn {sklearn.__version__} (skl2onnx)", labels, classifier=classes is not None)


def _keras(source: Path, out: Path) -> Converted:
    if importlib.util.find_spec("tensorflow") is None or importlib.util.find_spec("tf2onnx") is None:
        raise EnvironmentProblem(
            f"{source}: Keras/TensorFlow models need tensorflow and tf2onnx, which are not installed here "
            "(pip install tensorflow-cpu tf2onnx, or export the model to ONNX or TFLite first)"
        )
    import tensorflow as tf  # pragma: no cover - not installed in fleetops' environments
    import tf2onnx

    try:
        # tf2onnx's from_keras and from_saved_model fail on Keras 3 models (tf2onnx 1.17 with
        # keras 3.15: KeyError 'keras_tensor_N'); a tf.function with an explicit input signature
        # around the model (or around the SavedModel's serving signature) converts both.
        if source.is_dir():
            loaded = tf.saved_model.load(str(source))  # kept alive: the signature's variables live in it
            signature = loaded.signatures["serving_default"]
            args, kwargs = signature.structured_input_signature
            spec = [tf.TensorSpec(s.shape, s.dtype, name=name) for name, s in kwargs.items()] or list(args)

            def call(*tensors):
                return signature(**{item.name: tensor for item, tensor in zip(spec, tensors, strict=True)})

        else:
            model = tf.keras.models.load_model(str(source))
            spec = [tf.TensorSpec(item.shape, item.dtype, name=f"input_{i}") for i, item in enumerate(model.inputs)]

            def call(*tensors):
                return model(*tensors)

        function = tf.function(call, input_signature=spec)
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            onnx_model, _ = tf2onnx.convert.from_function(function, input_signature=spec, opset=OPSET)
    except Exception as error:  # noqa: BLE001
        raise InputError(f"{source}: tf2onnx cannot convert it: {_line(error)}") from None
    out.write_bytes(onnx_model.SerializeToString())
    return Converted(out, f"tensorflow {tf.__version__} (tf2onnx {tf2onnx.__version__})")


def _line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0][:200]}" if text else type(error).__name__
