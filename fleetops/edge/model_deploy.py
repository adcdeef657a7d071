"""``fleetops model deploy``: put a model on gateways behind a smoke gate, roll back on failure.

Per gateway, in parallel: upload ``model.onnx`` and ``manifest.json`` over SFTP into
``models/<name>-<sha12>.partial``, check the sha256 on the host against the manifest, rename to
``models/<name>-<sha12>`` (an interrupted upload leaves only ``.partial``, never served), switch
``models/current`` with a rename, restart the app, then gate: ``/ready`` within 60 s and the
inference smoke check (golden inputs, latency budget). If the gate fails, ``models/current`` goes
back to the previous model, the app restarts, and the run record says why.

The next ``fleetops deploy deploys/edge.py`` sets ``models/current`` to the model declared in
group data again: declare a model there to keep it.
"""

from __future__ import annotations

from typing import Any

import shlex
import time
from dataclasses import dataclass
from pathlib import Path

from fleetops.checking.target import SshTarget
from fleetops.checks.base import Target
from fleetops.checks.edge import Inference
from fleetops.checks.result import Status
from fleetops.models import manifest as manifests
from fleetops.models.manifest import MANIFEST_FILE, MODEL_FILE, Manifest
from fleetops.edge.layout import CONFIG, ROOT, UNIT
from fleetops.runner.record import HostResult, OperationResult
from fleetops.secrets import redact
from fleetops.sshutil import exec_command

CURRENT = f"{ROOT}/models/current"
GATE_LATENCY_MS = 1000.0  # p95 over HTTP; above this a model fails the gate
# The app loads its model before it starts listening, so once /health answers, /ready is final.
WAIT_UP = (
    'for i in $(seq 120); do python3 -c "import json, urllib.request; '
    f"c = json.load(open('{CONFIG}')); h = c.get('listen_host', '127.0.0.1'); "
    "h = '127.0.0.1' if h in ('0.0.0.0', '::') else h; "
    'urllib.request.urlopen(f\'http://{h}:{c[\\"listen_port\\"]}/health\', timeout=2)" 2>/dev/null && exit 0; '
    "sleep 0.5; done; exit 1"
)


@dataclass
class Step:
    name: str
    ok: bool
    changed: bool
    seconds: float
    error: str | None = None


class GatewayDeploy:
    """One gateway's model deploy, step by step, ending deployed or rolled back."""

    def __init__(self, target: SshTarget, model_dir: Path, manifest: Manifest, port: int, infer_token=None) -> None:
        self.target, self.model_dir, self.manifest, self.port = target, model_dir, manifest, port
        self.infer_token = infer_token
        # the manifest (golden inputs, labels) is part of what is served, so it is part of the name
        self.manifest_sha = manifests.sha256_file(model_dir / MANIFEST_FILE)
        self.dest = f"{ROOT}/models/{manifest.name}-{manifest.sha256[:12]}-{self.manifest_sha[:8]}"
        self.steps: list[Step] = []
        self.client: Any = None  # the SSH client while run() is connected

    def sh(self, command: str, timeout: float = 120) -> tuple[int, str, str]:
        return exec_command(self.client, command, timeout=timeout)

    def step(self, name: str, action) -> bool:
        started = time.perf_counter()
        try:
            changed, error = action()
        except Exception as exc:  # noqa: BLE001 - every failure becomes a recorded step
            changed, error = False, f"{type(exc).__name__}: {exc}"
        self.steps.append(
            Step(name, error is None, changed, time.perf_counter() - started, redact(error) if error else None)
        )
        return error is None

    def upload(self) -> tuple[bool, str | None]:
        q_dest, q_tmp = shlex.quote(self.dest), shlex.quote(self.dest + ".partial")
        wanted = [self.manifest.sha256, self.manifest_sha]
        code, out, _ = self.sh(f"cd {q_dest} 2>/dev/null && sha256sum {MODEL_FILE} {MANIFEST_FILE}")
        if code == 0 and out.split()[::2] == wanted:
            return False, None  # already there, verified
        self.sh(f"rm -rf {q_tmp} && mkdir -p {q_tmp}")
        sftp = self.client.open_sftp()
        try:
            for name in (MODEL_FILE, MANIFEST_FILE):
                sftp.put(str(self.model_dir / name), f"{self.dest}.partial/{name}")
        finally:
            sftp.close()
        code, out, err = self.sh(f"cd {q_tmp} && sha256sum {MODEL_FILE} {MANIFEST_FILE}")
        if code != 0 or out.split()[::2] != wanted:
            self.sh(f"rm -rf {q_tmp}")
            return False, "checksum mismatch after upload; the partial copy was removed"
        code, _, err = self.sh(f"rm -rf {q_dest} && mv -T {q_tmp} {q_dest}")
        return True, None if code == 0 else err.strip()

    def switch(self, target: str) -> tuple[bool, str | None]:
        code, _, err = self.sh(
            f"ln -sfn {shlex.quote(target)} {ROOT}/models/.current.tmp && mv -T {ROOT}/models/.current.tmp {CURRENT}"
        )
        return True, None if code == 0 else err.strip()

    def restart(self) -> tuple[bool, str | None]:
        # deliberate restarts must not be refused by the crash-loop limit (StartLimitBurst)
        code, _, err = self.sh(f"systemctl reset-failed {UNIT} 2>/dev/null; systemctl restart {UNIT}")
        return True, None if code == 0 else err.strip() or "restart failed"

    def smoke(self, requests: int, **thresholds: float | None) -> str | None:
        """Wait for the app to listen, run the inference smoke check; the failure message or None."""
        self.sh(WAIT_UP, timeout=90)  # then the smoke check says ready or why not
        check = Inference(
            kind="inference", url=f"http://{{address}}:{self.port}", requests=requests, **thresholds
        ).for_host({"edge": {"infer_token": self.infer_token}})
        outcome = check.judge(check.collect(Target(self.target.name, self.target.hostname), 30))
        return outcome.message if outcome.status == Status.CRITICAL else None

    def gate(self) -> tuple[bool, str | None]:
        # correctness decides; the latency limit only catches a model that is unusably slow
        failure = self.smoke(20, warn=None, crit=GATE_LATENCY_MS)
        return False, f"smoke gate failed: {failure}" if failure else None

    def ready_again(self) -> tuple[bool, str | None]:
        failure = self.smoke(5)
        return False, f"after rollback: {failure}" if failure else None

    def run(self) -> HostResult:
        started = time.perf_counter()
        result = HostResult()
        try:
            self.client = self.target.connect(timeout=10)
        except Exception as error:  # noqa: BLE001
            result.status, result.error = "unreachable", f"connect: {error}"
            return result
        try:
            code, previous, _ = self.sh(f"readlink {CURRENT}")
            previous = previous.strip() if code == 0 else ""
            if not self.step("upload and verify sha256", self.upload):
                result.status, result.error = "failed", self.steps[-1].error
            elif previous == self.dest:
                self.steps.append(Step("switch models/current", True, False, 0.0))
                result.status = "ok"
            elif (
                self.step("switch models/current", lambda: self.switch(self.dest))
                and self.step("restart the app", self.restart)
                and self.step("smoke gate", self.gate)
            ):
                result.status = "changed"
            else:
                reason = self.steps[-1].error
                if previous:
                    self.step(f"roll back to {Path(previous).name}", lambda: self.switch(previous))
                    self.step("restart the app", self.restart)
                    self.step("ready again", self.ready_again)
                result.status, result.error = "failed", f"rolled back: {reason}"
        finally:
            self.client.close()
        result.duration_s = round(time.perf_counter() - started, 3)
        result.operations = [
            OperationResult(
                name=step.name,
                hash=f"model-{index}",
                status="ok" if step.ok and not step.changed else ("changed" if step.ok else "failed"),
                changed=step.changed and step.ok,
                duration_s=round(step.seconds, 3),
                error=step.error,
            )
            for index, step in enumerate(self.steps)
        ]
        return result


def load_model(model_dir: Path) -> Manifest:
    return manifests.load(model_dir)
