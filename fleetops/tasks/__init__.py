"""Deploy files fleetops itself runs through its deploy runner (so every host change it makes,
a rollback included, is planned, applied and written to a run record the same way)."""

from pathlib import Path

HERE = Path(__file__).parent


def task(name: str) -> Path:
    """The deploy file of a built-in task, e.g. ``task("edge_rollback")``."""
    return HERE / f"{name}.py"
