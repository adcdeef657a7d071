"""``fleetops model``: the model pipeline (convert to ONNX, quantize behind a gate, inspect)."""

from __future__ import annotations

from pathlib import Path

import click

from fleetops.cli.options import inventory_options, output_options, vault_password_option


@click.group()
def model() -> None:
    """Build ONNX model directories (model.onnx + manifest.json + eval.npz) for edge gateways.

    \b
    fleetops model list
    fleetops model convert --model digits --out models/digits
    fleetops model quantize models/digits --gate 0.99
    fleetops model inspect models/digits --json
    fleetops model import my.tflite --out models/mine --labels labels.txt --samples samples/
    fleetops model evaluate models/mine --data test-set/ --html eval.html --png confusion.png
    """


MODELS = ("iris", "digits", "ops-text", "orientation", "face", "vad", "digits-torch")  # zoo.CATALOGUE


@model.command(name="list")
@output_options
def list_(verbose, quiet, as_json) -> None:
    """The models `fleetops model convert` builds (all offline, from pinned packages)."""
    from fleetops.cli.render import print_json, print_table
    from fleetops.models.zoo import CATALOGUE

    rows = [{"model": name, "task": entry.task, "source": entry.source} for name, entry in CATALOGUE.items()]
    if as_json:
        print_json(rows)
    elif not quiet:
        print_table("bundled models", ["model", "task", "source"], [tuple(row.values()) for row in rows])


@model.command()
@click.option(
    "--model",
    "--dataset",
    "names",
    type=click.Choice(MODELS),
    multiple=True,
    help="Catalogue model to build (repeatable; see `fleetops model list`).",
)
@click.option("--all", "build_all", is_flag=True, help="Build every catalogue model into OUT/<model>.")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    required=True,
    help="Model directory (with --all or several --model: the parent directory).",
)
@click.option("--name", default=None, help="Model name in the manifest (one model only).")
@click.option("--version", "version", default="1", show_default=True)
@output_options
def convert(names, build_all, out_dir, name, version, verbose, quiet, as_json) -> None:
    """Build ONNX model directories reproducibly: train or fetch, convert, write manifest and goldens.

    \b
    fleetops model convert --model digits --out models/digits
    fleetops model convert --all --out models
    """
    from fleetops.cli.render import print_json, print_table
    from fleetops.errors import InputError
    from fleetops.models.zoo import build, torch_available

    if build_all and names:
        raise InputError("use --all or --model, not both")
    # --all: every model this machine can build (digits-torch only where torch is installed)
    chosen = (
        [m for m in MODELS if m != "digits-torch" or torch_available()] if build_all else list(dict.fromkeys(names))
    )
    if not chosen:
        raise InputError("name a model with --model (see `fleetops model list`) or use --all")
    if name and len(chosen) > 1:
        raise InputError("--name applies to one model only")
    several = build_all or len(chosen) > 1
    manifests = []
    for index, item in enumerate(chosen, 1):
        if not quiet and not as_json:
            click.echo(f"[{index}/{len(chosen)}] building {item}", err=True)
        manifests.append(build(item, out_dir / item if several else out_dir, name=name, version=version))
    if as_json:
        data = [
            m.model_dump(exclude_none=True, exclude={"golden"})
            | {"golden": len(m.golden), "directory": str(out_dir / item if several else out_dir)}
            for item, m in zip(chosen, manifests, strict=True)
        ]
        print_json(data if several else data[0])
    elif not quiet:
        print_table(
            "models built",
            ["model", "directory", "size", "opset", "input", "labels", "golden"],
            [
                (
                    m.name,
                    str(out_dir / item if several else out_dir),
                    f"{m.size_bytes / 1e3:.1f} kB",
                    m.opset,
                    m.interface.input.kind,
                    ", ".join(m.labels)[:40],
                    len(m.golden),
                )
                for item, m in zip(chosen, manifests, strict=True)
            ],
        )


@model.command()
@click.argument("model_dir", type=click.Path(path_type=Path))
@click.option(
    "--gate",
    type=float,
    default=0.99,
    show_default=True,
    help="A variant must reach this fraction of the fp32 accuracy (and pass golden inputs).",
)
@click.option(
    "--data",
    type=click.Path(path_type=Path),
    default=None,
    help="Labelled set to gate and calibrate on (folder per label, CSV, label<TAB>text); default: eval.npz.",
)
@output_options
def quantize(model_dir, gate, data, verbose, quiet, as_json) -> None:
    """Try dynamic and static INT8; keep the fastest variant that passes the accuracy gate."""
    import logging

    from fleetops.cli.render import print_json, print_table
    from fleetops.models.quantize import quantize as run

    logging.getLogger().setLevel(logging.ERROR if not verbose else logging.INFO)  # onnxruntime's hints
    report = run(model_dir, gate=gate, data=data)
    if as_json:
        print_json(report)
        return
    rows = []
    for variant, row in report["variants"].items():
        if not row["built"]:
            rows.append((variant, "", "", "", "", "not built", row["error"][:80]))
            continue
        rows.append(
            (
                variant,
                row["size_bytes"],
                row["accuracy"],
                row["latency_ms"]["p50"],
                row["latency_ms"]["p95"],
                "pass" if row["passed"] else "fail",
                "kept" if variant == report["kept"] else "",
            )
        )
    if quiet:
        return
    print_table(
        f"quantization of {report['model']} (gate {gate}, {report['samples']} samples of {report['data']})",
        ["variant", "bytes", "accuracy", "p50 ms", "p95 ms", "gate", ""],
        rows,
    )


def _shape(value: str | None) -> list[int] | None:
    if value is None:
        return None
    try:
        shape = [int(part) for part in value.split(",")]
    except ValueError:
        raise click.BadParameter(f"{value!r}: comma-separated positive integers, e.g. 1,3,32,32") from None
    if not shape or any(dim <= 0 for dim in shape):
        raise click.BadParameter(f"{value!r}: every dimension must be positive")
    return shape


def _floats(value: str | None) -> list[float] | None:
    if value is None:
        return None
    try:
        return [float(part) for part in value.split(",")]
    except ValueError:
        raise click.BadParameter(f"{value!r}: comma-separated numbers") from None


@model.command(name="import")
@click.argument("source", type=click.Path(path_type=Path))
@click.option("--out", "out_dir", type=click.Path(path_type=Path), required=True, help="New model directory.")
@click.option(
    "--samples",
    type=click.Path(path_type=Path),
    required=True,
    help="Labelled samples (folder per label, CSV with 'label', label<TAB>text): golden inputs and eval set.",
)
@click.option(
    "--labels", "labels_file", type=click.Path(path_type=Path), help="Label names, one per line, in output order."
)
@click.option("--interface", "interface_file", type=click.Path(path_type=Path), help="YAML: input/output/constants.")
@click.option("--input-shape", help="Model input shape for PyTorch export, e.g. 1,3,32,32.")
@click.option("--scale", type=float, help="Input scale (e.g. 0.00392 for 1/255).")
@click.option("--mean", help="Per-channel mean after scaling, e.g. 0.485,0.456,0.406.")
@click.option("--std", help="Per-channel std, e.g. 0.229,0.224,0.225.")
@click.option("--softmax/--no-softmax", default=None, help="Apply a softmax to the scores (default: detected).")
@click.option("--weights", type=click.Path(path_type=Path), help="state_dict for SOURCE=file.py:Name (tensors only).")
@click.option("--trust-pickle", is_flag=True, help="Allow a scikit-learn pickle (loading it runs its code).")
@click.option("--name", default=None, help="Model name in the manifest (default: from the file name).")
@click.option("--version", "version", default="1", show_default=True)
@output_options
def import_(
    source,
    out_dir,
    samples,
    labels_file,
    interface_file,
    input_shape,
    scale,
    mean,
    std,
    softmax,
    weights,
    trust_pickle,
    name,
    version,
    verbose,
    quiet,
    as_json,
) -> None:
    """Make a model directory from a model fleetops never saw: ONNX, TFLite, PyTorch (TorchScript,
    torch.export .pt2, or file.py:Name with --weights), scikit-learn (joblib/pickle), Keras/TensorFlow
    (.keras, .h5, a SavedModel folder; the keras extra). Nothing is written unless every check passes."""
    from fleetops.cli.render import print_json, print_table
    from fleetops.models.importer import ImportOptions, import_model

    flags = {"input.scale": scale, "input.mean": _floats(mean), "input.std": _floats(std), "output.softmax": softmax}
    options = ImportOptions(
        source=source,
        out=out_dir,
        samples=samples,
        labels_file=labels_file,
        interface_file=interface_file,
        name=name,
        version=version,
        input_shape=_shape(input_shape),
        flags={key: value for key, value in flags.items() if value is not None},
        trust_pickle=trust_pickle,
        weights=weights,
    )
    manifest = import_model(options)
    if as_json:
        print_json(manifest.model_dump(exclude_none=True, exclude={"golden"}) | {"golden": len(manifest.golden)})
    elif not quiet:
        print_table(
            f"imported {manifest.name} v{manifest.version} into {out_dir}",
            ["key", "value"],
            [
                ("from", f"{manifest.source['format']}: {manifest.source['framework']}"),
                ("interface", f"{manifest.interface.input.kind} -> {manifest.interface.output.kind}"),
                ("labels", ", ".join(manifest.labels[:10]) + (" …" if len(manifest.labels) > 10 else "")),
                ("samples answered right", f"{manifest.source['sample_accuracy']:.4f}"),
                ("golden inputs", f"{len(manifest.golden)} (checked)"),
                ("sha256", manifest.sha256),
            ],
        )


@model.command()
@click.argument("model_dir", type=click.Path(path_type=Path))
@click.option("--data", type=click.Path(path_type=Path), required=True, help="Labelled evaluation set.")
@click.option("--html", "html_out", type=click.Path(path_type=Path), help="Write the report as HTML.")
@click.option("--png", "png_out", type=click.Path(path_type=Path), help="Write the confusion matrix as PNG.")
@output_options
def evaluate(model_dir, data, html_out, png_out, verbose, quiet, as_json) -> None:
    """Accuracy, per-class precision/recall, confusion matrix and latency p50/p95 on a labelled set."""
    from fleetops.cli.options import output_path
    from fleetops.cli.render import print_json, print_table
    from fleetops.models import evaluate as evaluation

    html_path, png_path = output_path(html_out, "--html"), output_path(png_out, "--png")
    report = evaluation.evaluate(model_dir, data)
    if html_path:
        evaluation.write_html(report, html_path)
    if png_path:
        evaluation.write_png(report, png_path)
    if as_json:
        print_json(report)
        return
    if quiet:
        return
    latency = report["latency_ms"]
    print_table(
        f"{report['model']} on {report['samples']} samples: accuracy {report['accuracy']:.4f}, "
        f"p50 {latency['p50']} ms, p95 {latency['p95']} ms",
        ["label", "precision", "recall", "support"],
        [(c["label"], f"{c['precision']:.4f}", f"{c['recall']:.4f}", c["support"]) for c in report["classes"]],
    )
    labels = report["confusion"]["labels"]
    print_table(
        "confusion matrix (rows: true, columns: predicted)",
        ["", *labels],
        [(labels[i], *row) for i, row in enumerate(report["confusion"]["matrix"])],
    )


@model.command()
@click.argument("model_dir", type=click.Path(path_type=Path))
@click.option("--data", type=click.Path(path_type=Path), help="Labelled set (default: the directory's eval.npz).")
@click.option(
    "-i", "--inventory", "inventory", metavar="FILE", help="pyinfra or Ansible inventory (default: the running lab)."
)
@vault_password_option
@click.option("--limit", multiple=True, metavar="GROUP|HOST", help="Gateways to measure on (default: group gateway).")
@click.option("--gate", type=float, default=0.99, show_default=True, help="Fraction of the fp32 accuracy to keep.")
@click.option(
    "--level",
    "levels",
    multiple=True,
    type=click.Choice(["disabled", "basic", "extended", "all"]),
    help="onnxruntime graph optimisation levels to measure (repeatable; default: basic and all).",
)
@click.option("--keep", is_flag=True, help="Write the chosen variant into MODEL_DIR when every gateway chose it.")
@output_options
def optimize(model_dir, data, inventory, limit, gate, levels, keep, verbose, quiet, as_json) -> None:
    """Variants for the gateways' hardware (INT8 dynamic/static/MatMul-only, FP16 where a provider
    has fp16 kernels), measured on each gateway: every provider it has, each optimisation level."""
    import logging

    from fleetops.checking.target import SshTarget
    from fleetops.cli.render import print_json, print_table
    from fleetops.inventory import load_inventory, resolve_inventory, select_hosts
    from fleetops.models.optimize import optimize as run

    logging.getLogger().setLevel(logging.ERROR if not verbose else logging.INFO)
    hosts = select_hosts(load_inventory(resolve_inventory(inventory)), limit or ("gateway",))
    report = run(model_dir, [SshTarget.from_host(host) for host in hosts], data=data, gate=gate,
                 levels=tuple(levels) or ("basic", "all"), keep=keep)  # fmt: skip
    if as_json:
        print_json(report)
    elif not quiet:
        for host in report["hosts"]:
            if "error" in host:
                click.echo(f"{host['host']}: {host['error']}", err=True)
                continue
            machine = host["machine"]
            rows = [
                (r["variant"], r["provider"].removesuffix("ExecutionProvider"), r["level"], r["size_bytes"],
                 r.get("accuracy", ""), r.get("p50_ms", ""), r.get("p95_ms", ""),
                 "pass" if r["passed"] else ("fail" if r.get("loaded") else r.get("error", "")[:40]),
                 "chosen" if host["best"] is r else "")
                for r in host["rows"]
            ]  # fmt: skip
            print_table(
                f"{host['host']}: {machine['cpu'] or machine['arch']}, {machine['cpus']} CPUs, "
                f"{' '.join(machine['cpu_flags']) or 'no SIMD flags'}; onnxruntime {machine['onnxruntime']} "
                f"({', '.join(p.removesuffix('ExecutionProvider') for p in machine['providers'])})",
                ["variant", "provider", "level", "bytes", "accuracy", "p50 ms", "p95 ms", "gate", ""],
                rows,
            )
        for variant, reason in report["not_built"].items():
            click.echo(f"{variant}: not built here: {reason}", err=True)
        if report["kept"]:
            click.echo(f"kept {report['kept']} in {model_dir}", err=True)
    if any("error" in host for host in report["hosts"]):
        raise SystemExit(1)


@model.command()
@click.argument("model_dir", type=click.Path(path_type=Path))
@output_options
def inspect(model_dir, verbose, quiet, as_json) -> None:
    """Check the model against its manifest (sha256) and run its golden inputs."""
    import sys

    from fleetops.cli.render import print_json, print_table
    from fleetops.models import manifest as manifests
    from fleetops.models.manifest import MODEL_FILE
    from fleetops.models.quantize import golden_problems

    manifest = manifests.load(model_dir)
    problems = golden_problems(model_dir / MODEL_FILE, manifest)
    passed = not problems
    if as_json:
        summary = manifest.model_dump(exclude_none=True, exclude={"golden"})
        print_json({**summary, "golden": len(manifest.golden), "golden_ok": passed, "problems": problems})
    else:
        print_table(
            f"model {manifest.name} v{manifest.version}",
            ["key", "value"],
            [
                ("sha256", f"{manifest.sha256} (matches)"),
                ("opset", manifest.opset),
                ("quantization", manifest.quantization.get("kept", "none")),
                ("interface", f"{manifest.interface.input.kind} -> {manifest.interface.output.kind}"),
                ("labels", ", ".join(manifest.labels[:10]) + (" …" if len(manifest.labels) > 10 else "")),
                ("golden inputs", f"{len(manifest.golden)} ok" if passed else "FAILED: " + "; ".join(problems[:3])),
            ],
        )
    if not passed:
        sys.exit(1)


@model.command(name="deploy")
@click.argument("model_dir", type=click.Path(path_type=Path))
@inventory_options
@click.option("--json", "as_json", is_flag=True, help="The run record as JSON on stdout.")
def deploy_(model_dir, inventory, limit, exclude, parallel, as_json) -> None:
    """Upload MODEL_DIR to the gateways, switch, smoke-gate; roll back automatically on failure.

    The changes run through the deploy runner with the edge role's own steps; one run record
    covers the release, the gate and any rollback.

    \b
    fleetops model deploy models/digits --limit gateway
    """
    import sys
    import time

    from pydantic import ValidationError

    from fleetops.checks.base import Target
    from fleetops.cli.render import print_json, print_table
    from fleetops.edge import model_deploy as steps
    from fleetops.edge.layout import CURRENT_MODEL, MODEL_DIR_KEY, PREVIOUS_KEY, model_destination
    from fleetops.errors import InputError
    from fleetops.facts.releases import LinkTarget
    from fleetops.inventory import load_inventory, resolve_inventory, select_hosts
    from fleetops.remote_exec import read_facts
    from fleetops.roles.edge_spec import EdgeData
    from fleetops.runner import record as records
    from fleetops.runner.deploy import DeployOptions, run_deploy
    from fleetops.tasks import task
    from fleetops.validation import describe_validation_error

    model_dir = Path(model_dir).resolve()
    manifest = steps.load_model(model_dir)  # sha256 checked before anything connects
    dest = model_destination(model_dir, manifest)
    inventory_path = resolve_inventory(inventory)
    selection = limit or ("gateway",)
    hosts = select_hosts(load_inventory(inventory_path), selection, exclude)
    targets = {}
    for host in hosts:
        try:
            spec = EdgeData.model_validate(dict(host.data.dict())).edge
        except ValidationError as error:
            raise InputError(f"host {host.name}: {describe_validation_error(error)}") from None
        if spec is None or not spec.present:
            raise InputError(f"host {host.name}: no edge app declared (group data key edge)")
        address = str(host.data.get("ssh_hostname") or host.name)
        targets[host.name] = (Target(host.name, address), spec.port, spec.infer_token)
    started = time.perf_counter()
    previous = {
        answer.host: answer.facts.get("current") if answer.ok else None
        for answer in read_facts(hosts, {"current": (LinkTarget(), {"path": CURRENT_MODEL})}, parallel)
    }
    record = run_deploy(
        DeployOptions(
            deploy_file=task("model_release"),
            inventory=inventory_path,
            limit=selection,
            exclude=exclude,
            parallel=parallel,
            data={MODEL_DIR_KEY: str(model_dir)},
        )
    )
    reasons = steps.to_roll_back(record, targets, previous, dest)
    if reasons:
        rollback = run_deploy(
            DeployOptions(
                deploy_file=task("model_rollback"),
                inventory=inventory_path,
                limit=tuple(reasons),
                parallel=parallel,
                data={PREVIOUS_KEY: {name: previous[name] for name in reasons}},
            )
        )
        steps.merge_rollback(record, rollback, reasons, targets)
    record.deploy = f"model deploy {manifest.name} v{manifest.version} {manifest.sha256[:12]}"
    record.limit = list(limit)
    record.ended_at = records.utcnow()
    record.duration_s = round(time.perf_counter() - started, 3)
    data = record.to_dict()
    records.validate(data)
    path = records.write(data)
    if as_json:
        print_json(data)
    else:
        print_table(
            f"model deploy {manifest.name}",
            ["host", "status", "time", "error"],
            [(name, r["status"], f"{r['duration_s']:.1f}s", r["error"] or "") for name, r in data["hosts"].items()],
        )
        click.echo(f"run record: {path}", err=True)
    if data["summary"]["failed"] or data["summary"]["unreachable"]:
        sys.exit(1)
