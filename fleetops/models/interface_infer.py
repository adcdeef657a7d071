"""Work out how to feed and read a model from its graph, then apply what the user says.

Pure: it takes the tensor signatures ``manifest.describe`` reads from the ONNX file. A string
input is text; ``[N, C, H, W]`` with C in 1/3/4 is an NCHW image, ``[N, H, W, C]`` an NHWC one;
``[N, F]`` is tabular. skl2onnx classifiers answer (label, probabilities); every other model's
first output is read as scores. Anything the graph cannot say (audio framing, a flat image,
normalisation) comes from ``--interface FILE.yml`` or flags, which always win.
"""

from __future__ import annotations

from typing import Any

from fleetops.edge.inference import Interface
from fleetops.errors import InputError

CHANNELS = (1, 3, 4)


def _fixed(dims: list) -> list[int | None]:
    return [dim if isinstance(dim, int) and dim > 0 else None for dim in dims]


def infer_input(tensor: dict) -> dict:
    """The ``interface.input`` the first input tensor implies (may be only ``{"kind": ...}``)."""
    if tensor["dtype"] == "string":
        return {"kind": "text"}
    dims = _fixed(tensor["shape"])
    if len(dims) == 4:
        _n, a, b, c = dims
        if a in CHANNELS and b and c and b > 4 and c > 4:
            return {"kind": "image", "shape": [b, c, a], "layout": "NCHW", "dtype": "uint8"}
        if c in CHANNELS and a and b and a > 4 and b > 4:
            return {"kind": "image", "shape": [a, b, c], "layout": "NHWC", "dtype": "uint8"}
        raise InputError(f"input {tensor['name']}{tensor['shape']}: cannot tell height, width and channels; "
                         "give input.shape and input.layout in --interface")
    if len(dims) == 2:
        return {"kind": "tabular"}
    raise InputError(f"input {tensor['name']}{tensor['shape']}: rank {len(dims)} is not an image, table or text; "
                     "describe it with --interface FILE.yml")


def infer_output(outputs: list[dict], classifier: bool) -> dict:
    if classifier or (len(outputs) >= 2 and outputs[0]["dtype"] in ("int64", "string")):
        return {"kind": "classifier"}
    return {"kind": "scores", "name": outputs[0]["name"]}


def merge(inferred: dict, given: dict | None, flags: dict[str, Any]) -> Interface:
    """Inferred < the --interface file < flags; validated as the app's Interface (one line on error)."""
    data: dict = {"input": dict(inferred.get("input", {})), "output": dict(inferred.get("output", {}))}
    for part in ("input", "output", "constants"):
        if given and part in given:
            if part == "constants":
                data["constants"] = given["constants"]
            else:
                if given[part].get("kind", data[part].get("kind")) != data[part].get("kind"):
                    data[part] = {}  # another kind: the inferred details do not apply
                data[part].update(given[part])
    for key, value in flags.items():
        if value is None:
            continue
        part, _, field = key.partition(".")
        data[part][field] = value
    from pydantic import ValidationError

    from fleetops.validation import describe_validation_error

    try:
        return Interface.model_validate(data)
    except ValidationError as error:
        raise InputError(f"interface: {describe_validation_error(error)}") from None


def example_shape(interface: Interface, tensor: dict) -> list[int] | None:
    """The model-side input shape for a PyTorch export, from the declared interface."""
    spec = interface.input
    if spec.kind == "image" and spec.shape:
        height, width, channels = spec.shape
        return {"NCHW": [1, channels, height, width], "NHWC": [1, height, width, channels],
                "flat": [1, height * width * channels]}[spec.layout]
    dims = _fixed(tensor.get("shape", [])) if tensor else []
    rest = [dim for dim in dims[1:] if dim is not None]
    return [1, *rest] if dims and len(rest) == len(dims) - 1 else None
