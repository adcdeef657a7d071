"""The model pipeline: convert to ONNX, quantize behind an accuracy gate, describe in a manifest.

Imports onnxruntime, onnx, scikit-learn and skl2onnx lazily; install them with
``pip install -e '.[models]'``.
"""
