"""``_if`` conditions whose outcome a dry run can know from the plan.

pyinfra's ``any_changed`` returns a plain lambda, which a plan cannot look into, so a dry run
would list "restart vsftpd" although nothing changes. ``any_changed`` here answers both at
execution time (``__call__``) and at plan time (``planned``), which the runner asks.
"""

from __future__ import annotations

from typing import Any

from fleetops.pyinfra_compat import will_change


class AnyChanged:
    """True when any of the given operations changed (or, when planning, will change)."""

    def __init__(self, *operations: Any) -> None:
        self.operations = operations

    def __call__(self) -> bool:
        return any(operation.did_change() for operation in self.operations)

    def planned(self) -> bool:
        return any(will_change(operation) for operation in self.operations)


def any_changed(*operations: Any) -> AnyChanged:
    """``_if=any_changed(config, certificate)``: run only if one of them changed."""
    return AnyChanged(*operations)
