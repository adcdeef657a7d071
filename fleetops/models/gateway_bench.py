"""Measure model variants on a gateway itself, with the edge app's own Python and Runner.

Shipped by ``fleetops model optimize`` into a private scratch folder on the gateway and run with
``/opt/fleetops-edge/current/venv/bin/python gateway_bench.py JOB.json``; it imports only numpy,
onnxruntime and the release's ``inference.py``, prints one JSON document and writes nothing.
Per variant, execution provider and graph optimisation level: load, accuracy on the evaluation
set, golden inputs, latency p50/p95 of single-sample calls after a warm-up.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time

LEVELS = ("disabled", "basic", "extended", "all")


def machine(ort) -> dict:
    flags: set[str] = set()
    model = ""
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("flags") and not flags:
                    flags = set(line.split(":", 1)[1].split())
                elif line.startswith("model name") and not model:
                    model = line.split(":", 1)[1].strip()
    except OSError:
        pass
    wanted = ("avx", "avx2", "avx512f", "avx512_vnni", "avx_vnni", "fma", "f16c", "amx_int8", "neon", "asimd")
    return {
        "host": platform.node(),
        "arch": platform.machine(),
        "cpu": model,
        "cpus": os.cpu_count(),
        "cpu_flags": sorted(flag for flag in wanted if flag in flags),
        "onnxruntime": ort.__version__,
        "providers": ort.get_available_providers(),
    }


def session(ort, path: str, provider: str, level: str, threads: int):
    options = ort.SessionOptions()
    options.graph_optimization_level = {
        "disabled": ort.GraphOptimizationLevel.ORT_DISABLE_ALL,
        "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
        "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
        "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
    }[level]
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return ort.InferenceSession(path, sess_options=options, providers=[provider])


def payload(sample) -> dict:
    """The request for one evaluation sample (fleetops.models.runtime.sample_payload's twin: this
    file runs on the gateway, where fleetops is not installed)."""
    return {"text": str(sample)} if sample.dtype.kind in "US" else {"input": sample}


def measure(job: dict) -> dict:
    import numpy as np
    import onnxruntime as ort

    sys.path.insert(0, job["release"])
    from inference import Runner  # the release's own, as the app runs it

    data = np.load(job["data"], allow_pickle=False)
    features, expected = data["x"], data["y"]
    rows = []
    for variant in job["variants"]:
        for provider in [p for p in job["providers"] if p in ort.get_available_providers()]:
            for level in job["levels"]:
                row = {"variant": variant["name"], "provider": provider, "level": level, "size_bytes": variant["size"]}
                try:
                    runner = Runner(session(ort, variant["path"], provider, level, job["threads"]), job["manifest"])
                    hits = sum(
                        runner.run(payload(sample))[0] == runner.labels[int(label)]
                        for sample, label in zip(features, expected)
                    )
                    feeds = [
                        {runner.input_name: runner.prepare(runner.decode(payload(sample))), **runner.constants}
                        for sample in features[:50]
                    ]
                    for i in range(job["warmup"]):
                        runner.session.run(None, feeds[i % len(feeds)])
                    timings = []
                    for i in range(job["runs"]):
                        started = time.perf_counter_ns()
                        runner.session.run(None, feeds[i % len(feeds)])
                        timings.append((time.perf_counter_ns() - started) / 1e6)
                    timings.sort()
                    row.update(
                        loaded=True,
                        accuracy=round(hits / max(1, len(features)), 4),
                        golden_ok=not runner.check_golden(),
                        p50_ms=round(statistics.median(timings), 4),
                        p95_ms=round(timings[int(0.95 * (len(timings) - 1))], 4),
                    )
                except Exception as error:  # noqa: BLE001 - a variant that does not run here is a finding
                    row.update(loaded=False, error=f"{type(error).__name__}: {error}"[:300])
                rows.append(row)
    return {"machine": machine(ort), "rows": rows}


if __name__ == "__main__":
    with open(sys.argv[1]) as handle:
        print(json.dumps(measure(json.load(handle))))
