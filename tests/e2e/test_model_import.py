"""Issue 13 on the real gateways (e2e1, e2e3): four models fleetops never saw (an ONNX file, a
TFLite file, a TorchScript model and a scikit-learn pickle, made in the test from public
packages) are imported, evaluated on a labelled set, quantized behind its gate, deployed with the
unchanged `fleetops model deploy`, and pass the unchanged `fleetops smoke` on both gateways."""

from __future__ import annotations

import json
import shutil

import pytest

from tests.e2e.conftest import REPO
from tests.e2e.helpers import fleetops
from tests.e2e.test_edge import model_deploy
from tests.models.zoo import build_zoo

pytestmark = pytest.mark.lab

IMPORTS = {
    "byo-onnx": ("onnx", ["--scale", "0.0625"]),
    "byo-tflite": ("tflite", ["--scale", "0.0625"]),
    "byo-torch": ("torchscript", ["--scale", "0.0625", "--input-shape", "1,64"]),
    "byo-sklearn": ("sklearn", ["--trust-pickle"]),
}


@pytest.fixture(scope="module")
def zoo(tmp_path_factory):
    return build_zoo(tmp_path_factory.mktemp("byo"))


def test_own_models_import_evaluate_quantize_deploy_and_pass_smoke(edge, lab, deploy, zoo, tmp_path):
    figures = {}
    try:
        for name, (kind, flags) in IMPORTS.items():
            out = tmp_path / name
            labels = [] if kind == "sklearn" else ["--labels", str(zoo["labels"])]
            proc = fleetops("model", "import", str(zoo[kind]), "--out", str(out), "--samples", str(zoo["csv"]),
                            "--name", name, *labels, *flags, "-q")  # fmt: skip
            assert proc.returncode == 0, (name, proc.stderr)
            shutil.copytree(out, tmp_path / f"{name}-fp32")
            proc = fleetops("model", "evaluate", str(out), "--data", str(zoo["csv"]), "--json")
            assert proc.returncode == 0, (name, proc.stderr)
            evaluation = json.loads(proc.stdout)
            assert evaluation["accuracy"] > 0.9, (name, evaluation["accuracy"])
            proc = fleetops("model", "quantize", str(out), "--data", str(zoo["csv"]), "--gate", "0.98", "--json")
            assert proc.returncode == 0, (name, proc.stderr)
            quantized = json.loads(proc.stdout)
            assert quantized["variants"][quantized["kept"]]["passed"]
            # the same variants measured where they will run: on each gateway (before quantize kept one)
            proc = fleetops("model", "optimize", str(tmp_path / f"{name}-fp32"), "-i", str(lab.inventory), "--data",
                            str(zoo["csv"]), "--level", "all", "--json")  # fmt: skip
            assert proc.returncode == 0, (name, proc.stderr[-2000:])
            for host in json.loads(proc.stdout)["hosts"]:
                figures[(name, host["host"])] = {
                    row["variant"]: (row["size_bytes"], row.get("accuracy"), row.get("p50_ms")) for row in host["rows"]
                } | {"chosen": host["chosen"]}

            code, record = model_deploy(lab, out)
            for gateway in ("e2e1", "e2e3"):
                assert code == 0 and record["hosts"][gateway]["status"] in ("changed", "ok"), (name, record)
            proc = fleetops("smoke", "-i", str(lab.inventory), "--json", "--no-history")
            assert proc.returncode in (0, 1), (name, proc.stdout[-2000:])  # 1: a latency warning on a busy box
            results = [r for r in json.loads(proc.stdout)["results"] if r["check"] == "inference"]
            assert len(results) == 2 and all(f"{name} v1" in r["message"] for r in results), results
            assert all("golden inputs ok" in r["message"] for r in results), results
    finally:
        code, _record, err = deploy(REPO / "deploys/edge.py")  # back to the model the group data declares
        assert code == 0, err
    print("\nimported models on the gateways (size bytes, accuracy, p50 ms; CPU provider, level all):")
    for name, rows in figures.items():
        print(f"{name}: {rows}")


def test_a_truncated_model_and_a_wrong_shape_are_refused_in_one_line(zoo, tmp_path):
    truncated = tmp_path / "half.onnx"
    truncated.write_bytes(zoo["onnx"].read_bytes()[:1000])
    proc = fleetops("model", "import", str(truncated), "--out", str(tmp_path / "a"), "--samples", str(zoo["csv"]),
                    "--labels", str(zoo["labels"]))  # fmt: skip
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1 and "not a readable ONNX" in proc.stderr
    interface = tmp_path / "interface.yml"
    interface.write_text("input: {kind: image, shape: [10, 10, 1], layout: flat}\n")
    proc = fleetops("model", "import", str(zoo["onnx"]), "--out", str(tmp_path / "b"), "--samples", str(zoo["csv"]),
                    "--labels", str(zoo["labels"]), "--interface", str(interface))  # fmt: skip
    assert proc.returncode == 2 and "wrong input shape" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_optimize_measures_on_each_gateway_and_the_choice_deploys(edge, lab, deploy, zoo, tmp_path):
    out = tmp_path / "byo-opt"
    proc = fleetops("model", "import", str(zoo["torchscript"]), "--out", str(out), "--samples", str(zoo["csv"]),
                    "--labels", str(zoo["labels"]), "--scale", "0.0625", "--input-shape", "1,64", "--name", "byo-opt", "-q")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    proc = fleetops("model", "optimize", str(out), "-i", str(lab.inventory), "--data", str(zoo["csv"]),
                    "--gate", "0.98", "--keep", "--json")  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(proc.stdout)
    assert sorted(host["host"] for host in report["hosts"]) == ["e2e1", "e2e3"]
    for host in report["hosts"]:
        assert host["machine"]["providers"][-1] == "CPUExecutionProvider" and host["machine"]["host"] == host["host"]
        variants = {row["variant"] for row in host["rows"]}
        assert {"fp32", "int8-dynamic", "int8-static", "int8-dynamic-matmul"} <= variants
        assert "fp16" not in variants  # the CPU provider has no fp16 kernels: not offered there
        assert {row["level"] for row in host["rows"]} == {"basic", "all"}
        assert host["best"]["passed"] and host["chosen"] == host["best"]["variant"]
    try:
        if report["kept"]:
            code, record = model_deploy(lab, out)
            assert code == 0, record
            proc = fleetops("smoke", "-i", str(lab.inventory), "--json", "--no-history")
            assert proc.returncode in (0, 1), proc.stdout[-2000:]
            assert all(
                "golden inputs ok" in r["message"]
                for r in json.loads(proc.stdout)["results"]
                if r["check"] == "inference"
            )
    finally:
        code, _record, err = deploy(REPO / "deploys/edge.py")
        assert code == 0, err
    print(
        "\noptimize per gateway:",
        {h["host"]: (h["chosen"], h["best"]["p50_ms"], h["best"]["accuracy"]) for h in report["hosts"]},
    )
