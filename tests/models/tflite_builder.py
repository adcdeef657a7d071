"""Write a real TFLite flatbuffer without TensorFlow: FULLY_CONNECTED then SOFTMAX, i.e. a
multinomial logistic regression, built with the ``tflite`` schema package and ``flatbuffers``.

It gives the tests a TFLite classifier nobody in fleetops wrote as a TFLite file by hand-picked
bytes: the weights come from scikit-learn, the file layout from TFLite's own schema.
"""

from __future__ import annotations

import flatbuffers
import numpy as np
import tflite


def _int_vector(builder, start, values) -> int:
    start(builder, len(values))
    for value in reversed(values):
        builder.PrependInt32(value)
    return builder.EndVector()


def _buffer(builder, data: bytes | None) -> int:
    vector = builder.CreateByteVector(data) if data else None
    tflite.BufferStart(builder)
    if vector is not None:
        tflite.BufferAddData(builder, vector)
    return tflite.BufferEnd(builder)


def _tensor(builder, name: str, shape: list[int], buffer: int) -> int:
    name_offset = builder.CreateString(name)
    shape_offset = _int_vector(builder, tflite.TensorStartShapeVector, shape)
    tflite.TensorStart(builder)
    tflite.TensorAddShape(builder, shape_offset)
    tflite.TensorAddType(builder, tflite.TensorType.FLOAT32)
    tflite.TensorAddBuffer(builder, buffer)
    tflite.TensorAddName(builder, name_offset)
    return tflite.TensorEnd(builder)


def _operator(builder, opcode: int, inputs: list[int], outputs: list[int], options_type: int, options: int) -> int:
    ins = _int_vector(builder, tflite.OperatorStartInputsVector, inputs)
    outs = _int_vector(builder, tflite.OperatorStartOutputsVector, outputs)
    tflite.OperatorStart(builder)
    tflite.OperatorAddOpcodeIndex(builder, opcode)
    tflite.OperatorAddInputs(builder, ins)
    tflite.OperatorAddOutputs(builder, outs)
    tflite.OperatorAddBuiltinOptionsType(builder, options_type)
    tflite.OperatorAddBuiltinOptions(builder, options)
    return tflite.OperatorEnd(builder)


def softmax_classifier(weights: np.ndarray, bias: np.ndarray) -> bytes:
    """``softmax(x @ weights.T + bias)`` for x of shape [1, features]; weights [classes, features]."""
    classes, features = weights.shape
    builder = flatbuffers.Builder(1024)
    buffers = [
        _buffer(builder, None),
        _buffer(builder, np.ascontiguousarray(weights, dtype="<f4").tobytes()),
        _buffer(builder, np.ascontiguousarray(bias, dtype="<f4").tobytes()),
    ]
    tensors = [
        _tensor(builder, "input", [1, features], 0),
        _tensor(builder, "weights", [classes, features], 1),
        _tensor(builder, "bias", [classes], 2),
        _tensor(builder, "logits", [1, classes], 0),
        _tensor(builder, "probabilities", [1, classes], 0),
    ]
    tflite.FullyConnectedOptionsStart(builder)
    fc_options = tflite.FullyConnectedOptionsEnd(builder)
    tflite.SoftmaxOptionsStart(builder)
    tflite.SoftmaxOptionsAddBeta(builder, 1.0)
    softmax_options = tflite.SoftmaxOptionsEnd(builder)
    operators = [
        _operator(builder, 0, [0, 1, 2], [3], tflite.BuiltinOptions.FullyConnectedOptions, fc_options),
        _operator(builder, 1, [3], [4], tflite.BuiltinOptions.SoftmaxOptions, softmax_options),
    ]
    codes = []
    for op in (tflite.BuiltinOperator.FULLY_CONNECTED, tflite.BuiltinOperator.SOFTMAX):
        tflite.OperatorCodeStart(builder)
        tflite.OperatorCodeAddDeprecatedBuiltinCode(builder, op)
        tflite.OperatorCodeAddBuiltinCode(builder, op)
        tflite.OperatorCodeAddVersion(builder, 1)
        codes.append(tflite.OperatorCodeEnd(builder))

    def vector(start, items) -> int:
        start(builder, len(items))
        for item in reversed(items):
            builder.PrependUOffsetTRelative(item)
        return builder.EndVector()

    tensor_vector = vector(tflite.SubGraphStartTensorsVector, tensors)
    operator_vector = vector(tflite.SubGraphStartOperatorsVector, operators)
    inputs = _int_vector(builder, tflite.SubGraphStartInputsVector, [0])
    outputs = _int_vector(builder, tflite.SubGraphStartOutputsVector, [4])
    name = builder.CreateString("main")
    tflite.SubGraphStart(builder)
    tflite.SubGraphAddTensors(builder, tensor_vector)
    tflite.SubGraphAddOperators(builder, operator_vector)
    tflite.SubGraphAddInputs(builder, inputs)
    tflite.SubGraphAddOutputs(builder, outputs)
    tflite.SubGraphAddName(builder, name)
    subgraph = tflite.SubGraphEnd(builder)
    subgraphs = vector(tflite.ModelStartSubgraphsVector, [subgraph])
    code_vector = vector(tflite.ModelStartOperatorCodesVector, codes)
    buffer_vector = vector(tflite.ModelStartBuffersVector, buffers)
    description = builder.CreateString("fleetops test classifier")
    tflite.ModelStart(builder)
    tflite.ModelAddVersion(builder, 3)
    tflite.ModelAddOperatorCodes(builder, code_vector)
    tflite.ModelAddSubgraphs(builder, subgraphs)
    tflite.ModelAddBuffers(builder, buffer_vector)
    tflite.ModelAddDescription(builder, description)
    builder.Finish(tflite.ModelEnd(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())
