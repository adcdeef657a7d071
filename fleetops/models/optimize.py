"""``fleetops model optimize``: variants for the gateway's hardware, measured on the gateway.

Built on the controller: fp32, INT8 dynamic (every op), INT8 dynamic on MatMul/Gemm only, INT8
static (QDQ, calibrated on the evaluation set), and FP16 (weights and compute, float I/O). Then
each gateway (``--limit``, default the ``gateway`` group) measures every variant with its own
onnxruntime, on every execution provider it has and at each graph optimisation level asked for,
through the release's own Runner: accuracy on the labelled set, golden inputs, p50/p95. FP16 is
measured only on providers with fp16 kernels (not the CPU provider). A variant passes where it
loads, answers its golden inputs and keeps ``gate`` x the fp32 accuracy there; each gateway's
choice is its fastest passing row (5 % counts as a tie, won by the smaller file). ``--keep``
writes the choice into the model directory when every gateway chose the same variant.
"""

from __future__ import annotations

import json
import shlex
import shutil
import tempfile
from pathlib import Path

import numpy as np

from fleetops.checking.target import SshTarget
from fleetops.edge.layout import ROOT
from fleetops.errors import InputError
from fleetops.fanout import per_host
from fleetops.models import manifest as manifests
from fleetops.models.manifest import MODEL_FILE, Manifest
from fleetops.models.quantize import evaluation_set
from fleetops.secrets import redact

RELEASE = f"{ROOT}/current"
FP16_PROVIDERS = ("CUDAExecutionProvider", "TensorrtExecutionProvider", "ROCMExecutionProvider",
                  "OpenVINOExecutionProvider", "DmlExecutionProvider", "CoreMLExecutionProvider")
LEVELS = ("disabled", "basic", "extended", "all")
TIE = 1.05


def build_variants(source: Path, work: Path, calibration: np.ndarray, manifest: Manifest) -> dict[str, Path | str]:
    """Every variant's file, or why it could not be built."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from fleetops.models.quantize import int8_variants

    variants = int8_variants(source, work, calibration, manifest)
    matmul = work / "int8-dynamic-matmul.onnx"
    try:
        quantize_dynamic(str(source), str(matmul), weight_type=QuantType.QInt8, op_types_to_quantize=["MatMul", "Gemm"])
        variants["int8-dynamic-matmul"] = matmul
    except Exception as error:  # noqa: BLE001 - onnxruntime raises many types
        variants["int8-dynamic-matmul"] = f"{type(error).__name__}: {error}"
    fp16 = work / "fp16.onnx"
    try:
        import onnx
        from onnxruntime.transformers.float16 import convert_float_to_float16

        onnx.save(convert_float_to_float16(onnx.load(str(source)), keep_io_types=True), str(fp16))
        variants["fp16"] = fp16
    except Exception as error:  # noqa: BLE001
        variants["fp16"] = f"{type(error).__name__}: {error}"
    return variants


def _on_gateway(target: SshTarget, files: dict[str, Path], job: dict, timeout: float) -> dict:
    """Upload the variants, the data and the bench into a fresh 0700 folder, run, clean up."""
    client = target.connect(timeout=10)
    try:
        _stdin, out, _err = client.exec_command("mktemp -d /tmp/fleetops-optimize.XXXXXXXX", timeout=30)
        remote = out.read().decode().strip()
        if not remote.startswith("/tmp/fleetops-optimize."):
            return {"error": "could not make a scratch folder"}
        try:
            sftp = client.open_sftp()
            for name, path in files.items():
                sftp.put(str(path), f"{remote}/{name}")
            job = {**job, "data": f"{remote}/eval.npz", "release": RELEASE}
            for variant in job["variants"]:
                variant["path"] = f"{remote}/{variant['file']}"
            with sftp.open(f"{remote}/job.json", "w") as handle:
                handle.write(json.dumps(job))
            sftp.close()
            command = f"{RELEASE}/venv/bin/python {shlex.quote(remote)}/gateway_bench.py {shlex.quote(remote)}/job.json"
            _stdin, out, err = client.exec_command(command, timeout=timeout)
            text, errors = out.read().decode(), err.read().decode()
            if out.channel.recv_exit_status() != 0:
                return {"error": redact(errors.strip().splitlines()[-1] if errors.strip() else "the bench failed")}
            return json.loads(text)
        finally:
            _stdin, done, _err = client.exec_command(f"rm -rf {shlex.quote(remote)}", timeout=30)
            done.channel.recv_exit_status()
    finally:
        client.close()


def judge(rows: list[dict], gate: float) -> tuple[str | None, dict | None]:
    """Mark each row passed or not; the chosen row (fastest passing, ties to the smaller file)."""
    baseline = next(
        (r for r in rows if r["variant"] == "fp32" and r.get("loaded") and r["provider"] == "CPUExecutionProvider"
         and r["level"] == "all"), None)  # fmt: skip
    if baseline is None:
        for row in rows:
            row["passed"] = False
        return None, None
    for row in rows:
        row["passed"] = bool(row.get("loaded") and row.get("golden_ok") and row["accuracy"] >= gate * baseline["accuracy"])
    passing = [row for row in rows if row["passed"]]
    best = min(row["p50_ms"] for row in passing)
    close = [row for row in passing if row["p50_ms"] <= best * TIE]
    chosen = min(close, key=lambda row: (row["size_bytes"], row["p50_ms"]))
    return chosen["variant"], chosen


def optimize(
    model_dir: Path,
    targets: list[SshTarget],
    data: Path | None = None,
    gate: float = 0.99,
    levels: tuple[str, ...] = ("basic", "all"),
    keep: bool = False,
    runs: int = 200,
    parallel: int | None = None,
) -> dict:
    if not 0 < gate <= 1:
        raise InputError(f"--gate must be in (0, 1], got {gate}")
    unknown = sorted(set(levels) - set(LEVELS))
    if unknown:
        raise InputError(f"--level {unknown[0]!r}: one of {', '.join(LEVELS)}")
    if not targets:
        raise InputError("no gateway selected (the gateway group is empty, or --limit matched none)")
    manifest = manifests.load(model_dir)
    if manifest.quantization.get("kept") not in (None, "fp32"):
        raise InputError(f"{model_dir}: already reduced ({manifest.quantization['kept']}); optimize the fp32 model")
    features, expected, calibration = evaluation_set(model_dir, manifest, data)
    with tempfile.TemporaryDirectory(prefix="fleetops-optimize-") as tmp:
        work = Path(tmp)
        source = work / "fp32.onnx"
        shutil.copy(model_dir / MODEL_FILE, source)
        built = build_variants(source, work, calibration, manifest)
        np.savez_compressed(work / "eval.npz", x=features, y=expected)
        files = {"eval.npz": work / "eval.npz", "gateway_bench.py": Path(__file__).with_name("gateway_bench.py")}
        variants = []
        for name, path in built.items():
            if isinstance(path, Path):
                files[path.name] = path
                variants.append({"name": name, "file": path.name, "size": path.stat().st_size})
        job = {
            "manifest": manifest.model_dump(exclude_none=True),
            "variants": variants,
            "levels": list(levels),
            "providers": ["CPUExecutionProvider", *FP16_PROVIDERS],
            "threads": 1,
            "warmup": 20,
            "runs": runs,
        }

        def one(target: SshTarget) -> dict:
            try:
                answer = _on_gateway(target, files, json.loads(json.dumps(job)), timeout=1800)
            except Exception as error:  # noqa: BLE001 - an unreachable gateway is a result, not a crash
                answer = {"error": redact(f"{type(error).__name__}: {error}")}
            if "rows" in answer:
                # FP16 runs only where a provider has fp16 kernels; on the CPU provider it is not an option
                answer["rows"] = [r for r in answer["rows"] if r["variant"] != "fp16" or r["provider"] in FP16_PROVIDERS]
                answer["chosen"], answer["best"] = judge(answer["rows"], gate)
            return {"host": target.name, **answer}

        hosts = per_host(targets, one, parallel)
        report = {
            "model": manifest.name,
            "gate": gate,
            "samples": int(len(features)),
            "not_built": {name: str(path)[:300] for name, path in built.items() if isinstance(path, str)},
            "hosts": hosts,
        }
        choices = {host.get("chosen") for host in hosts}
        report["kept"] = None
        if keep and len(choices) == 1 and None not in choices:
            kept = str(next(iter(choices)))
            chosen_file = built[kept]
            if kept != "fp32" and isinstance(chosen_file, Path):
                staged = model_dir / f".{MODEL_FILE}.tmp"
                shutil.copy(chosen_file, staged)
                staged.replace(model_dir / MODEL_FILE)
            summary = {h["host"]: {k: h["best"][k] for k in ("provider", "level", "accuracy", "p50_ms", "size_bytes")}
                       for h in hosts}  # fmt: skip
            manifests.write(model_dir, Manifest.model_validate({
                **manifest.model_dump(), **manifests.describe(model_dir / MODEL_FILE),
                "quantization": {"kept": kept, "gate": gate, "measured_on": summary}}))  # fmt: skip
            report["kept"] = kept
    return report
