"""Run ONNX models with onnxruntime the way the edge app does, and measure them honestly.

Sessions name the CPU provider and a fixed thread count (auto threading gave p95 outliers);
latency is measured after a warm-up, per single-sample call, with perf_counter_ns.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import numpy as np


def session(model_path: Path, threads: int = 1):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return ort.InferenceSession(str(model_path), sess_options=options,
                                providers=["CPUExecutionProvider"])


def predict(sess, features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(label indices, probabilities) for a batch of float32 features."""
    name = sess.get_inputs()[0].name
    outputs = sess.run(None, {name: features.astype(np.float32)})
    labels = np.asarray(outputs[0]).reshape(-1)
    scores = np.asarray(outputs[1]) if len(outputs) > 1 else np.zeros((len(labels), 1))
    return labels, scores


def accuracy(sess, features: np.ndarray, expected: np.ndarray) -> float:
    labels, _ = predict(sess, features)
    return float(np.mean(labels == expected))


def latency_ms(sess, features: np.ndarray, warmup: int = 20, runs: int = 200) -> dict:
    """p50/p95 of single-sample calls after a warm-up."""
    name = sess.get_inputs()[0].name
    samples = [features[i % len(features)][None, :].astype(np.float32) for i in range(warmup + runs)]
    for sample in samples[:warmup]:
        sess.run(None, {name: sample})
    timings = []
    for sample in samples[warmup:]:
        started = time.perf_counter_ns()
        sess.run(None, {name: sample})
        timings.append((time.perf_counter_ns() - started) / 1e6)
    timings.sort()
    return {"p50": round(statistics.median(timings), 4),
            "p95": round(timings[int(0.95 * (len(timings) - 1))], 4), "runs": runs}
