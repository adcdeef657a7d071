"""Benchmark: the edge app's overhead against in-process onnxruntime, per bundled model, as a ratio.

For each model the same golden input is answered R times:

* in process: the app's own ``Runner.run`` (decode, preprocess, ``session.run``, read outputs),
  one thread, CPU provider, as the app configures it;
* over HTTP: the real app (``fleetops/edge/app.py`` under uvicorn, started here on 127.0.0.1)
  answering ``POST /infer`` on one kept-alive connection: JSON parsing, validation, the inference
  log line and metrics included.

Both after a warm-up; p50/p95 from perf_counter_ns. Ratio = HTTP p50 / in-process p50.

    .venv/bin/python bench/edge_bench.py [--models digits,orientation] [--repeat 300] [--json out.json]

Needs the models extra and starlette/uvicorn (the bench extra). No root, no lab.
"""

from __future__ import annotations

import argparse
import http.client
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from fleetops.edge import app as edge_app
from fleetops.edge.inference import payload_of
from fleetops.models import manifest as manifests
from fleetops.models import runtime, zoo

REPO = Path(__file__).resolve().parents[1]


def percentiles(samples: list[float]) -> dict:
    ordered = sorted(samples)
    return {"p50": round(statistics.median(ordered), 4), "p95": round(ordered[int(0.95 * (len(ordered) - 1))], 4)}


def in_process(directory: Path, payload: dict, repeat: int) -> dict:
    model = runtime.runner(directory / manifests.MODEL_FILE, manifests.load(directory))
    for _ in range(20):
        model.run(payload)
    timings = []
    for _ in range(repeat):
        started = time.perf_counter_ns()
        model.run(payload)
        timings.append((time.perf_counter_ns() - started) / 1e6)
    return percentiles(timings)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def over_http(directory: Path, payload: dict, repeat: int, work: Path) -> dict:
    port = free_port()
    config = work / f"{directory.name}.json"
    config.write_text(
        json.dumps(
            {
                "listen_host": "127.0.0.1",
                "listen_port": port,
                "model_path": str(directory),
                "log_path": str(work / f"{directory.name}.jsonl"),
            }
        )
    )
    server = subprocess.Popen(
        [sys.executable, edge_app.__file__, "--config", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.time() + 60
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                conn.request("GET", "/ready")
                response = conn.getresponse()
                response.read()
                if response.status == 200:
                    break
                raise SystemExit("the app started but is not ready (golden inputs failed)")
            except OSError:
                if time.time() > deadline or server.poll() is not None:
                    raise SystemExit(f"the app did not start: {server.stderr.read().decode()[-500:]}") from None
                time.sleep(0.2)
        body = json.dumps(payload).encode()
        headers = {"Content-Type": "application/json"}

        def call() -> None:
            conn.request("POST", "/infer", body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
            if response.status != 200:
                raise SystemExit(f"/infer answered {response.status}: {data[:200]!r}")

        for _ in range(20):
            call()
        timings = []
        for _ in range(repeat):
            started = time.perf_counter_ns()
            call()
            timings.append((time.perf_counter_ns() - started) / 1e6)
        conn.close()
        return {**percentiles(timings), "request_bytes": len(body)}
    finally:
        server.terminate()
        server.wait(timeout=10)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(zoo.CATALOGUE), help="comma-separated catalogue names")
    parser.add_argument("--repeat", type=int, default=300)
    parser.add_argument("--json", dest="json_out", type=Path, default=None)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="fleetops-edge-bench-") as tmp:
        work = Path(tmp)
        for name in args.models.split(","):
            directory = work / name
            manifest = zoo.build(name, directory)
            payload = payload_of(manifest.golden[0].model_dump(exclude_none=True))
            local = in_process(directory, payload, args.repeat)
            remote = over_http(directory, payload, args.repeat, work)
            rows.append(
                {
                    "model": name,
                    "in_process_ms": local,
                    "http_ms": remote,
                    "ratio_p50": round(remote["p50"] / local["p50"], 2),
                    "overhead_p50_ms": round(remote["p50"] - local["p50"], 3),
                }
            )
    print(
        f"{'model':12} {'in-process p50/p95 ms':>22} {'HTTP p50/p95 ms':>18} {'request':>9} {'ratio':>6} "
        f"{'overhead':>9}"
    )
    for row in rows:
        local, remote = row["in_process_ms"], row["http_ms"]
        print(
            f"{row['model']:12} {local['p50']:>10.3f} / {local['p95']:<9.3f} {remote['p50']:>8.3f} / "
            f"{remote['p95']:<7.3f} {remote['request_bytes'] / 1000:>7.1f}kB {row['ratio_p50']:>6.2f} "
            f"{row['overhead_p50_ms']:>7.3f}ms"
        )
    out = args.json_out or REPO / "bench/results/edge_bench.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"repeat": args.repeat, "models": rows}, indent=2) + "\n")
    print(f"results: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
