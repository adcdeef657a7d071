"""The gateway tool's decisions and subcommands, against an in-memory boot environment.

The real tool runs fw_printenv/fw_setenv and swupdate on the gateway (the lab tests); here the
environment is a dict and the slots are temporary directories, so every branch runs without root.
"""

from __future__ import annotations

import json
import shutil
import stat
from pathlib import Path

import pytest

from fleetops.firmware import gateway_tool
from fleetops.firmware.gateway_tool import Environment, Tool, ToolError, boot_decision, install_consistent
from fleetops.roles.firmware import FACTORY


class MemoryEnv(Environment):
    """The env as a dict; ``ignore`` names variables a broken fw_setenv silently drops."""

    def __init__(self, values: dict[str, str], ignore: tuple[str, ...] = ()) -> None:
        self.values, self.ignore, self.writes = dict(values), ignore, []

    def _store(self, values: dict[str, str]) -> None:
        for name, value in values.items():
            if name in self.ignore:
                continue
            if value == "":
                self.values.pop(name, None)
            else:
                self.values[name] = value

    def read(self) -> dict[str, str]:
        return dict(self.values)

    def write(self, values: dict[str, str]) -> dict[str, str]:
        self.writes.append(dict(values))
        # the same read-back rule as Environment.write, on the stored dict
        self._store(values)
        for name, value in values.items():
            if self.values.get(name, "") != value:
                raise ToolError(f"env write did not take: {name}={self.values.get(name, '')!r}, wanted {value!r}")
        return dict(self.values)


BASE = {"boot_slot": "a", "upgrade_available": "0", "bootcount": "0", "bootlimit": "3", "ustate": "0"}


@pytest.fixture
def gateway(tmp_path, monkeypatch):
    """A tool over temporary state, run and health directories; reboots are recorded, not done."""
    state, run, health = tmp_path / "state", tmp_path / "run", tmp_path / "health.d"
    for slot in ("a", "b"):
        (state / "slots" / slot).mkdir(parents=True)
    shutil.copytree(FACTORY, state / "slots/a", dirs_exist_ok=True)
    health.mkdir()
    config = {"state_dir": str(state), "run_dir": str(run), "health_dir": str(health), "health_timeout": 1,
              "trial_timeout": 600, "swupdate_config": "/dev/null", "bootlimit": 3}  # fmt: skip
    env = MemoryEnv(BASE)
    tool = Tool(config, env)
    tool.reboots = []
    monkeypatch.setattr(tool, "reboot", lambda: tool.reboots.append(True))
    monkeypatch.setattr(gateway_tool.time, "sleep", lambda _s: None)
    return tool


def history(tool: Tool) -> list[dict]:
    return tool.events()


def arm_trial(tool: Tool, version: str = "2.0.0", slot: str = "b") -> None:
    (tool.slot_dir(slot) / "etc").mkdir(parents=True, exist_ok=True)
    (tool.slot_dir(slot) / "etc/fw-version").write_text(version + "\n")
    tool.env.values.update(
        boot_slot=slot, upgrade_available="1", bootcount="0", ustate="1", fleetops_trial_version=version
    )


def health_test(tool: Tool, name: str, script: str) -> None:
    """``name == "slot"``: slot b's own health test; else a test in the health.d directory."""
    if name == "slot":
        target = tool.slot_dir("b") / "usr/lib/fleetops-fw/health"
    else:
        target = Path(tool.config["health_dir"]) / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("#!/bin/sh\n" + script + "\n")
    target.chmod(target.stat().st_mode | stat.S_IXUSR)


def test_a_normal_boot_changes_nothing_and_links_the_slot(gateway):
    gateway.boot()
    assert gateway.env.writes == []
    assert (gateway.run_dir / "current").resolve() == gateway.slot_dir("a").resolve()
    assert gateway.booted_slot() == "a" and len((gateway.run_dir / "boot-id").read_text().strip()) == 32


def test_trial_boots_count_up_to_the_limit_then_fall_back_with_the_reason(gateway):
    arm_trial(gateway)
    for expected in (1, 2, 3):
        gateway.boot()
        assert gateway.env.values["bootcount"] == str(expected) and gateway.booted_slot() == "b"
    gateway.boot()  # the 4th boot: past bootlimit=3
    env = gateway.env.values
    assert (env["boot_slot"], env["upgrade_available"], env["ustate"]) == ("a", "0", "3")
    assert env["fleetops_rollback_reason"] == "bootlimit exceeded: slot b booted 3 times without commit (bootlimit=3)"
    assert gateway.booted_slot() == "a"
    events = history(gateway)
    assert [e["event"] for e in events] == ["trial-boot"] * 3 + ["rollback"]
    assert events[-1]["by"] == "bootloader" and events[-1]["boots"] == 3 and events[-1]["version"] == "2.0.0"


def test_boot_decision_is_u_boots_bootcount_env():
    assert boot_decision(BASE)[0] == {}
    changes, note, event = boot_decision({**BASE, "upgrade_available": "1", "bootcount": "1", "bootlimit": "2"})
    assert changes == {"bootcount": "2"} and "bootcount=2/2" in note and event["event"] == "trial-boot"
    changes, note, event = boot_decision(
        {**BASE, "boot_slot": "b", "upgrade_available": "1", "bootcount": "2", "bootlimit": "2"}
    )
    assert changes["boot_slot"] == "a" and event["by"] == "bootloader" and "falling back to slot a" in note
    _c, note, _e = boot_decision({**BASE, "recovery_status": "in_progress"})
    assert "interrupted install left slot b incomplete" in note


def test_health_passes_marks_the_trial_and_waits_for_the_controller(gateway):
    arm_trial(gateway)
    gateway.boot()
    health_test(gateway, "slot", "exit 0")
    assert gateway.health() == {"trial": True, "passed": True}
    assert gateway.env.values["fleetops_health"] == "ok" and gateway.env.values["upgrade_available"] == "1"
    assert gateway.reboots == []
    answer = gateway.commit("health-gate")
    assert answer == {"committed": True, "slot": "b", "version": "2.0.0"}
    env = gateway.env.values
    assert (env["upgrade_available"], env["bootcount"], env["ustate"]) == (
        "0",
        "0",
        "0",
    ) and "fleetops_health" not in env
    assert history(gateway)[-1] == {**history(gateway)[-1], "event": "commit", "by": "health-gate", "boots": 1}


def test_a_failing_health_test_rolls_back_with_its_output_and_reboots(gateway):
    arm_trial(gateway)
    gateway.boot()
    health_test(gateway, "20-model", "echo 'inference smoke test: model.onnx failed to load'; exit 1")
    answer = gateway.health()
    assert answer["passed"] is False and gateway.reboots == [True]
    env = gateway.env.values
    assert env["boot_slot"] == "a" and env["upgrade_available"] == "0" and env["ustate"] == "3"
    assert env["fleetops_rollback_reason"] == (
        "health test 20-model failed (exit 1): inference smoke test: model.onnx failed to load"
    )
    last = history(gateway)[-1]
    assert (last["event"], last["by"], last["from_slot"], last["to_slot"]) == ("rollback", "health", "b", "a")


def test_the_reason_is_capped_in_the_env_but_kept_in_the_history(gateway):
    arm_trial(gateway)
    gateway.boot()
    health_test(gateway, "slot", "printf 'x%.0s' $(seq 1 600); exit 1")
    gateway.health()
    assert len(gateway.env.values["fleetops_rollback_reason"]) == gateway_tool.REASON_ENV_BYTES
    assert len(history(gateway)[-1]["reason"]) > 600


def test_health_outside_a_trial_does_nothing(gateway):
    gateway.boot()
    assert gateway.health() == {"trial": False} and gateway.env.writes == []


def test_the_deadline_rolls_back_an_uncommitted_trial_only(gateway):
    gateway.boot()
    assert gateway.deadline() == {"trial": False}
    arm_trial(gateway)
    gateway.boot()
    assert gateway.deadline()["reason"] == "trial not committed within 600 s of boot"
    assert gateway.env.values["boot_slot"] == "a" and history(gateway)[-1]["by"] == "deadline"


def test_commit_refuses_without_a_trial_or_before_the_reboot(gateway):
    gateway.boot()
    with pytest.raises(ToolError, match="no trial is pending"):
        gateway.commit("x")
    arm_trial(gateway)  # armed, not yet booted into
    with pytest.raises(ToolError, match="slot b is armed but slot a is booted"):
        gateway.commit("x")


def test_operator_rollback_goes_back_to_the_previous_slot(gateway):
    gateway.set_good("a", "1.0.0")  # what init records for the factory slot
    gateway.boot()
    with pytest.raises(ToolError, match="slot b holds no firmware"):
        gateway.rollback("operator", "", reboot=True)
    arm_trial(gateway)
    gateway.boot()
    gateway.commit("health-gate")
    answer = gateway.rollback("operator", "bad field reports", reboot=True)
    assert answer == {"rolled_back": True, "to_slot": "a", "version": "1.0.0"}
    assert gateway.env.values["boot_slot"] == "a" and gateway.env.values["ustate"] == "0"
    assert history(gateway)[-1]["reason"] == "bad field reports" and gateway.reboots == [True]


def test_install_refuses_during_a_trial_with_status_3(gateway):
    arm_trial(gateway)
    with pytest.raises(ToolError, match="a trial of 2.0.0 is pending") as error:
        gateway.install("/tmp/x.swu", "3.0.0", force=False)
    assert error.value.status == 3


class FakeSwupdate:
    """Stands in for subprocess.run(swupdate ...): applies ``env`` changes, returns ``code``."""

    def __init__(self, tool: Tool, code: int, env: dict[str, str], version: str | None, stderr: str = "") -> None:
        self.tool, self.code, self.env, self.version, self.stderr, self.argv = tool, code, env, version, stderr, None

    def __call__(self, argv, **_kwargs):
        import subprocess

        self.argv = argv
        self.tool.env._store(self.env)
        if self.version:
            (self.tool.slot_dir("b") / "etc").mkdir(parents=True, exist_ok=True)
            (self.tool.slot_dir("b") / "etc/fw-version").write_text(self.version + "\n")
        return subprocess.CompletedProcess(argv, self.code, "", self.stderr)


ARMED = {"boot_slot": "b", "upgrade_available": "1", "ustate": "1", "fleetops_trial_version": "2.0.0", "bootcount": "0"}


def test_install_trusts_swupdate_only_when_the_env_agrees(gateway, monkeypatch):
    gateway.boot()
    fake = FakeSwupdate(gateway, 0, ARMED, "2.0.0")
    monkeypatch.setattr(gateway_tool.subprocess, "run", fake)
    answer = gateway.install("/x.swu", "2.0.0", force=False)
    assert answer["installed"] and answer["slot"] == "b" and answer["from_version"] == "1.0.0"
    assert fake.argv[:6] == ["swupdate", "-f", "/dev/null", "-e", "stable,copy2", "-i"]
    assert fake.argv[-4:] == ["-N", "1.0.0", "-R", "1.0.0"], "the version gate is SWUpdate's too"


def test_an_exit_0_without_the_env_switch_is_inconsistent_and_fails(gateway, monkeypatch):
    gateway.boot()
    monkeypatch.setattr(gateway_tool.subprocess, "run", FakeSwupdate(gateway, 0, {}, "2.0.0"))
    with pytest.raises(ToolError, match="install inconsistent: swupdate exit 0 but the environment says not switched"):
        gateway.install("/x.swu", "2.0.0", force=False)
    assert gateway.env.values["boot_slot"] == "a"


def test_a_failing_exit_with_the_env_switched_is_restored(gateway, monkeypatch):
    """The corrupt-cpio-header pitfall: swupdate switched the env and still exited 1."""
    gateway.boot()
    monkeypatch.setattr(gateway_tool.subprocess, "run", FakeSwupdate(gateway, 1, ARMED, "2.0.0"))
    with pytest.raises(ToolError, match="install inconsistent: swupdate exit 1 but the environment says switched"):
        gateway.install("/x.swu", "2.0.0", force=False)
    env = gateway.env.values
    assert (env["boot_slot"], env["upgrade_available"], env.get("fleetops_trial_version")) == ("a", "0", None)


def test_a_refusal_reports_swupdates_error_lines(gateway, monkeypatch):
    gateway.boot()
    stderr = "[ERROR] : HASH mismatch : 01f576 <--> 779477\n[ERROR] : Image invalid or corrupted. Not installing ...\n"
    monkeypatch.setattr(gateway_tool.subprocess, "run", FakeSwupdate(gateway, 1, {}, None, stderr))
    with pytest.raises(ToolError, match="swupdate refused: HASH mismatch : 01f576 <--> 779477; Image invalid"):
        gateway.install("/x.swu", "2.0.0", force=False)
    assert history(gateway)[-1]["event"] == "refused"


def test_an_exit_1_after_a_logged_success_with_the_env_switched_stands_and_is_recorded(gateway, monkeypatch):
    """SWUpdate 2022.12 exits 1 after about one good install in four (measured on the lab)."""
    gateway.boot()
    log = "[INFO ] : SWUPDATE running :  [endupdate] : SWUpdate was successful !\n"
    monkeypatch.setattr(gateway_tool.subprocess, "run", FakeSwupdate(gateway, 1, ARMED, "2.0.0", log))
    answer = gateway.install("/x.swu", "2.0.0", force=False)
    assert answer["installed"] and answer["exit_code_disagreed"] is True
    assert history(gateway)[-1]["exit_code_disagreed"] is True and gateway.env.values["boot_slot"] == "b"


def test_an_overwritten_slot_is_never_a_rollback_target(gateway, monkeypatch):
    """A failed install leaves new bytes in the inactive slot: rolling back to it would boot them."""
    gateway.set_good("a", "1.0.0")
    gateway.boot()
    monkeypatch.setattr(gateway_tool.subprocess, "run", FakeSwupdate(gateway, 0, {}, "2.0.0"))
    with pytest.raises(ToolError, match="install inconsistent"):
        gateway.install("/x.swu", "2.0.0", force=False)
    assert gateway.slot_version("b") == "2.0.0" and gateway.good() == {"a": "1.0.0"}
    with pytest.raises(ToolError, match="slot b holds 2.0.0, which never committed"):
        gateway.rollback("operator", "", reboot=True)


def test_install_consistent_needs_every_marker():
    assert install_consistent(ARMED, "b", "2.0.0")
    assert not install_consistent({**ARMED, "recovery_status": "in_progress"}, "b", "2.0.0")
    assert not install_consistent({**ARMED, "ustate": "7"}, "b", "2.0.0")
    assert not install_consistent(ARMED, "b", "3.0.0")


def test_env_writes_refuse_bad_names_and_detect_dropped_writes(gateway):
    with pytest.raises(ToolError, match="refusing to write env variable 'bad name'"):
        Environment.write(gateway.env, {"bad name": "x"})
    dropping = MemoryEnv(BASE, ignore=("bootlimit",))
    with pytest.raises(ToolError, match="env write did not take: bootlimit='3', wanted '5'"):
        dropping.write({"bootlimit": "5"})


def test_status_is_one_json_object(gateway, capsys, tmp_path):
    gateway.boot()
    status = gateway.status()
    assert status["version"] == "1.0.0" and status["versions"] == {"a": "1.0.0", "b": ""}
    assert status["trial_pending"] is False and status["bootlimit"] == 3
    config = tmp_path / "config.json"
    config.write_text(json.dumps({**gateway.config, "fw_env_config": "/nonexistent"}))
    code = gateway_tool.main(["--config", str(config), "commit", "--by", "x"])
    out = capsys.readouterr().out.strip().splitlines()
    assert code == 1 and json.loads(out[-1])["ok"] is False, "fw_printenv missing here: one JSON error line"


def test_parse_env_reads_name_value_lines():
    assert gateway_tool.parse_env("a=1\nb=\nreason=x=y\n") == {"a": "1", "b": "", "reason": "x=y"}
