"""The confirmation hook: it sees the plan, and its answer decides whether anything is applied."""

from __future__ import annotations

import pytest

from fleetops.runner.deploy import DeployOptions, run_deploy
from tests.e2e.conftest import HERE

pytestmark = pytest.mark.lab


@pytest.mark.parametrize("answer", [True, False])
def test_confirm_sees_the_plan_and_decides(lab, answer):
    seen: list[dict] = []

    def confirm(planned: dict) -> bool:
        seen.append(planned)
        return answer

    options = DeployOptions(deploy_file=HERE / "deploys/slow.py", inventory=lab.inventory, limit=("e2e1",))
    record = run_deploy(options, confirm=confirm).to_dict()
    assert len(seen) == 1 and seen[0]["status"] == "pending" and seen[0]["dry_run"] is True
    ops = record["hosts"]["e2e1"]["operations"]
    assert len(ops) == 3  # one entry per operation, none repeated from the plan
    if answer:
        assert record["dry_run"] is False and [op["status"] for op in ops] == ["changed"] * 3
    else:
        assert record["dry_run"] is True and [op["status"] for op in ops] == ["pending"] * 3
