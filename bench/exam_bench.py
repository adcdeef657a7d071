"""Provision, grade and reset time of N exam seats on the local lab (issue 12's closing figure).

    sudo .venv/bin/python bench/exam_bench.py --seats 8 --exam exams/a-j-services

Prints a table and writes JSON (``--json FILE``). The lab and the sitting are removed at the end.
Grading is one SSH round trip per host; the figure includes the controller-side checks.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

from click.testing import CliRunner

from fleetops.cli import app


def step(args: list[str]) -> float:
    started = time.perf_counter()
    result = CliRunner().invoke(app, ["exam", *args])
    elapsed = time.perf_counter() - started
    if result.exit_code not in (0, 1):
        raise SystemExit(f"exam {' '.join(args)}: exit {result.exit_code}: {result.stderr}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seats", type=int, default=8)
    parser.add_argument("--exam", default="exams/a-j-services")
    parser.add_argument("--json", dest="json_path", default=None)
    args = parser.parse_args()
    from fleetops.exam.sitting import exams_dir
    from fleetops.lab.fleet import Lab

    sitting, lab = "bench-seats", "foexbench"
    roster = Path(tempfile.mkdtemp()) / "roster.csv"
    roster.write_text("candidate_id,name\n" + "".join(f"B{n:03d},bench {n}\n" for n in range(1, args.seats + 1)))
    figures: dict[str, float] = {}
    try:
        figures["provision_first_s"] = step(
            ["provision", args.exam, "--roster", str(roster), "--sitting", sitting, "--lab", lab, "-q"]
        )
        figures["provision_again_s"] = step(
            ["provision", args.exam, "--roster", str(roster), "--sitting", sitting, "--lab", lab, "-q"]
        )
        figures["start_s"] = step(["start", "--sitting", sitting, "-q"])
        figures["stop_s"] = step(["stop", "--sitting", sitting, "-q"])
        figures["grade_s"] = step(["grade", "--sitting", sitting, "-q"])
        figures["grade_reboot_s"] = step(["grade", "--reboot", "--sitting", sitting, "-q"])
        figures["reset_s"] = step(["reset", "--sitting", sitting, "-q"])
        figures["reset_verify_only_s"] = step(["reset", "--verify-only", "--sitting", sitting, "-q"])
    finally:
        Lab(lab).down()
        shutil.rmtree(exams_dir() / sitting, ignore_errors=True)
    print(f"{args.seats} seats of {args.exam}:")
    for name, seconds in figures.items():
        print(f"  {name:<22} {seconds:7.1f} s")
    if args.json_path:
        Path(args.json_path).write_text(json.dumps({"seats": args.seats, "exam": args.exam, **figures}, indent=2))


if __name__ == "__main__":
    from fleetops.cli import patch_standard_library

    patch_standard_library()
    main()
