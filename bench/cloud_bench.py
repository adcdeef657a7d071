"""Per-phase time of ``cloud apply`` for each provider (issue 14's closing figures).

    sudo .venv/bin/python bench/cloud_bench.py [--local] [--json FILE]

aws runs against moto in-process on 127.0.0.1 and aliyun against the fleetops fake ECS (both
API-only: no boot, no SSH); ``--local`` adds the local provider on real lab hosts with the
baseline deploy and checks (needs root). Each provider: a first apply (create), a second one
(nothing to do), then destroy. Prints a table; ``--json`` writes the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from gevent import monkey

monkey.patch_all()

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from fleetops.cloud.apply import destroy  # noqa: E402
from fleetops.cloud.converge import ConvergeOptions, converge  # noqa: E402
from fleetops.cloud.provider import make_provider  # noqa: E402
from fleetops.cloud.spec import parse_cloud_spec  # noqa: E402


def lifecycle(name: str, data: dict, options: ConvergeOptions) -> list[dict]:
    spec = parse_cloud_spec(data, name)
    rows = []
    for label in ("first apply", "second apply"):
        provider = make_provider(spec)
        started = time.perf_counter()
        _record, run, _checks = converge(spec, provider, options)
        total = time.perf_counter() - started
        if run.error:
            raise SystemExit(f"{name} {label}: {run.error}")
        phases = {phase.name: round(phase.seconds, 2) for phase in run.phases}
        rows.append({"provider": name, "run": label, "total_s": round(total, 2), **phases})
    started = time.perf_counter()
    destroy(make_provider(spec), spec, [])
    rows.append({"provider": name, "run": "destroy", "total_s": round(time.perf_counter() - started, 2)})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--local", action="store_true", help="also the local provider (root, real lab hosts)")
    parser.add_argument("--json", dest="json_path")
    args = parser.parse_args()
    os.environ.setdefault("FLEETOPS_STATE_DIR", tempfile.mkdtemp(prefix="fleetops-cloud-bench-"))
    from tests.cloud.backends import AliyunBackend, AwsBackend
    from tests.cloud.fake_ecs import KEY_ID, SECRET, FakeEcs, serve
    from tests.cloud.moto_server import MotoEc2

    rows: list[dict] = []
    moto = MotoEc2()
    rows += lifecycle("aws (moto)", AwsBackend(moto).spec(), ConvergeOptions())
    moto.stop()
    fake = FakeEcs()
    server = serve(fake)
    fake.endpoint = f"http://127.0.0.1:{server.server_port}"  # type: ignore[attr-defined]
    os.environ["ALIBABA_CLOUD_ACCESS_KEY_ID"], os.environ["ALIBABA_CLOUD_ACCESS_KEY_SECRET"] = KEY_ID, SECRET
    rows += lifecycle("aliyun (fake)", AliyunBackend(fake).spec(), ConvergeOptions())
    server.shutdown()
    if args.local:
        from fleetops.lab.fleet import free_subnet

        local = {
            "fleet": "clbench",
            "provider": "local",
            "subnet": free_subnet("clbench"),
            "defaults": {"region": "lab", "zone": "lab-a", "instance_type": "lab.small", "image": "debian-12"},
            "instances": [{"name": "vm1", "groups": ["web"]}, {"name": "vm2"}],
            "group_data": str(REPO / "inventory" / "group_data"),
        }
        rows += lifecycle("local (lab)", local, ConvergeOptions(deploy=REPO / "deploys/baseline.py", suite="baseline"))
    phases = ["offers", "plan", "create", "running", "ssh", "inventory", "deploy", "check", "total_s"]
    print(f"{'provider':<15} {'run':<13}" + "".join(f"{p:>10}" for p in phases))
    for row in rows:
        print(f"{row['provider']:<15} {row['run']:<13}" + "".join(f"{row.get(p, ''):>10}" for p in phases))
    if args.json_path:
        Path(args.json_path).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
