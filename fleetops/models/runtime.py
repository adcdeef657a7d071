"""Run ONNX models with onnxruntime the way the edge app does, and measure them honestly.

Sessions name the CPU provider and a fixed thread count (auto threading gave p95 outliers);
inputs are fed and outputs read through the manifest's interface by the app's own
:class:`~fleetops.edge.inference.Runner`, so the controller and the gateways agree by construction.
Latency is measured after a warm-up, per single-sample call, with perf_counter_ns.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import numpy as np

from fleetops.edge.inference import Runner
from fleetops.models.manifest import Manifest


def session(model_path: Path, threads: int = 1):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3  # converted models warn about unused initializers
    return ort.InferenceSession(str(model_path), sess_options=options,
                                providers=["CPUExecutionProvider"])


def runner(model_path: Path, manifest: Manifest) -> Runner:
    return Runner(session(model_path), manifest.model_dump(exclude_none=True))


def sample_payload(sample) -> dict:
    """The request payload for one evaluation sample (a string for text models, else numbers)."""
    if isinstance(sample, str) or (isinstance(sample, np.ndarray) and sample.dtype.kind in "US"):
        return {"text": str(sample)}
    return {"input": sample}


def accuracy(model: Runner, samples: np.ndarray, expected: np.ndarray) -> float:
    """Share of evaluation samples answered with their expected label index."""
    hits = sum(model.run(sample_payload(sample))[0] == model.labels[int(label)]
               for sample, label in zip(samples, expected))
    return hits / max(1, len(samples))


def feeds(model: Runner, sample) -> dict:
    """The session feeds for one sample (model input plus the interface's constants)."""
    return {model.input_name: model.prepare(model.decode(sample_payload(sample))), **model.constants}


def latency_ms(model: Runner, samples: np.ndarray, warmup: int = 20, runs: int = 200) -> dict:
    """p50/p95 of single-sample model calls after a warm-up (preprocessing not included)."""
    prepared = [feeds(model, samples[i % len(samples)]) for i in range(min(len(samples), 50))]
    for i in range(warmup):
        model.session.run(None, prepared[i % len(prepared)])
    timings = []
    for i in range(runs):
        started = time.perf_counter_ns()
        model.session.run(None, prepared[i % len(prepared)])
        timings.append((time.perf_counter_ns() - started) / 1e6)
    timings.sort()
    return {"p50": round(statistics.median(timings), 4),
            "p95": round(timings[int(0.95 * (len(timings) - 1))], 4), "runs": runs}
