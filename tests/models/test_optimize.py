"""``fleetops model optimize`` without a gateway: the variants build, the gateway-side bench runs
here exactly as it runs on a gateway (the edge app's own inference.py), and the choice is pure."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from fleetops.models import gateway_bench
from fleetops.models import manifest as manifests
from fleetops.models.importer import ImportOptions, import_model
from fleetops.models.manifest import MODEL_FILE
from fleetops.models.optimize import build_variants, judge


def test_variants_build_and_the_gateway_bench_measures_them(zoo, tmp_path):
    out = tmp_path / "model"
    import_model(ImportOptions(source=zoo["torchscript"], out=out, samples=zoo["csv"], labels_file=zoo["labels"],
                               input_shape=[1, 64], flags={"input.scale": 1 / 16}))  # fmt: skip
    manifest = manifests.load(out)
    evaluation = np.load(out / "eval.npz")
    work = tmp_path / "work"
    work.mkdir()
    built = build_variants(out / MODEL_FILE, work, evaluation["calibration"], manifest)
    assert {name for name, path in built.items() if isinstance(path, Path)} == {
        "fp32", "int8-dynamic", "int8-static", "int8-dynamic-matmul", "fp16",
    }  # fmt: skip
    np.savez_compressed(work / "eval.npz", x=evaluation["x"], y=evaluation["y"])
    job = {
        "release": str(Path(gateway_bench.__file__).parents[1] / "edge"),  # where inference.py is, as on a gateway
        "data": str(work / "eval.npz"),
        "manifest": manifest.model_dump(exclude_none=True),
        "variants": [{"name": n, "path": str(p), "size": p.stat().st_size} for n, p in built.items() if isinstance(p, Path)],
        "levels": ["basic", "all"],
        "providers": ["CPUExecutionProvider"],
        "threads": 1,
        "warmup": 2,
        "runs": 10,
    }
    answer = gateway_bench.measure(job)
    assert "CPUExecutionProvider" in answer["machine"]["providers"] and answer["machine"]["cpus"] >= 1
    rows = {(r["variant"], r["level"]): r for r in answer["rows"]}
    assert len(rows) == 10
    fp32 = rows[("fp32", "all")]
    assert fp32["loaded"] and fp32["golden_ok"] and fp32["accuracy"] > 0.9 and fp32["p50_ms"] <= fp32["p95_ms"]
    chosen, best = judge(answer["rows"], gate=0.98)
    assert chosen is not None and best["passed"]


def test_judge_keeps_the_fastest_passing_and_breaks_ties_by_size():
    def row(variant, accuracy, p50, size, level="all", golden=True, loaded=True):
        return {"variant": variant, "provider": "CPUExecutionProvider", "level": level, "loaded": loaded,
                "accuracy": accuracy, "golden_ok": golden, "p50_ms": p50, "size_bytes": size}  # fmt: skip

    rows = [
        row("fp32", 0.95, 1.00, 1000),
        row("int8-dynamic", 0.80, 0.20, 300),  # fast but below the gate
        row("int8-static", 0.95, 0.50, 400, golden=False),  # answers a golden input wrong
        row("int8-dynamic-matmul", 0.95, 0.52, 350),  # within 5 % of the next one and smaller
        row("fp32", 0.95, 0.50, 1000, level="basic"),
        {"variant": "fp16", "provider": "CPUExecutionProvider", "level": "all", "loaded": False, "size_bytes": 500},
    ]
    chosen, best = judge(rows, gate=0.99)
    assert chosen == "int8-dynamic-matmul" and best["size_bytes"] == 350
    assert [r["passed"] for r in rows] == [True, False, False, True, True, False]
    assert judge([row("int8-dynamic", 0.9, 0.1, 1)], gate=0.99) == (None, None)  # no fp32 baseline: nothing passes
