"""``fleetops exam``: run a practical exam on machines, from roster to reset with proof.

\b
fleetops exam validate exams/a-j-services --roster roster.csv
fleetops exam selftest exams/a-j-services
fleetops exam provision exams/a-j-services --roster roster.csv --sitting 2026-12-05-am
fleetops exam handout            # slips + statements (HTML) and a credentials CSV
fleetops exam start              # unlock accounts, T0 per seat (controller clock)
fleetops exam status
fleetops exam extend s03 10 --reason "accommodation"
fleetops exam stop               # lock accounts, end sessions
fleetops exam collect            # candidates' changes with a sha256 manifest
fleetops exam grade [--reboot]
fleetops exam mark C001 T6.1 --score 2 --judge J1
fleetops exam regrade --task T2 --reason "T2.1 tested the wrong port"
fleetops exam report --html r.html --csv r.csv --json r.json --junit r.xml
fleetops exam reset              # back to baseline and prove it (exit 1 while a seat differs)
fleetops exam audit --verify
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from fleetops.cli.options import output_options, output_path, vault_password_option
from fleetops.cli.render import print_json, print_table
from fleetops.errors import InputError

EXIT_SEAT_FAILED = 1

sitting_option = click.option("--sitting", "sitting_id", default=None, help="Sitting id (default: the only one).")
seat_option = click.option("--seat", "seats", multiple=True, metavar="SEAT", help="Only this seat (repeatable).")


def _sitting(sitting_id: str | None):
    from fleetops.exam.sitting import load_sitting

    return load_sitting(sitting_id)


def _exam_dir(path: str) -> Path:
    from fleetops.exam.definition import load_exam

    return load_exam(Path(path))  # type: ignore[return-value]


@click.group()
def exam() -> None:
    """Practical exams on lab seats: provision, hand out, time, grade, report, reset with proof.

    \b
    fleetops exam validate exams/a-j-services
    fleetops exam selftest exams/a-j-services
    fleetops exam provision exams/a-j-services --roster roster.csv
    """


@exam.command()
@click.argument("exam_dir")
@click.option("--roster", type=click.Path(path_type=Path), default=None, help="Roster CSV to render every row of.")
@output_options
def validate(exam_dir: str, roster: Path | None, verbose: int, quiet: bool, as_json: bool) -> None:
    """Check an exam (and a roster) without connecting to anything.

    Schema, points, files, every variable rendered for every candidate, every rubric check
    valid, and the statement lint: every literal a check tests must be in the statement.

    \b
    fleetops exam validate exams/a-j-services --roster roster.csv
    """
    from fleetops.exam.definition import load_exam
    from fleetops.exam.roster import load_roster
    from fleetops.exam.validate import validate as run

    folder = load_exam(Path(exam_dir))
    candidates = load_roster(roster) if roster else None
    result = run(folder, candidates)
    data = {
        "exam": folder.exam.id,
        "sha256": folder.sha256,
        "points": folder.exam.points,
        "tasks": len(folder.exam.tasks),
        "items": result.items,
        "candidates": result.candidates,
        "problems": result.problems,
        "notes": result.notes,
    }
    if as_json:
        print_json(data)
    else:
        for problem in result.problems:
            click.echo(f"problem: {problem}", err=True)
        if not quiet:
            for note in result.notes:
                click.echo(f"note: {note}", err=True)
        click.echo(
            f"{folder.exam.id}: {len(folder.exam.tasks)} tasks, {result.items} items, {folder.exam.points:g} points, "
            f"{result.candidates} candidate(s) rendered, {len(result.problems)} problem(s); sha256 {folder.sha256[:16]}"
        )
    if result.problems:
        sys.exit(2)


@exam.command()
@click.argument("exam_dir")
@click.option("--seats", "seat_count", type=click.IntRange(2, 8), default=2, show_default=True)
@click.option("--keep", is_flag=True, help="Leave the throwaway lab and sitting up for inspection.")
@output_options
def selftest(exam_dir: str, seat_count: int, keep: bool, verbose: int, quiet: bool, as_json: bool) -> None:
    """Prove the grader on a throwaway lab: 0 before solve, full marks after, isolation, reset.

    \b
    fleetops exam selftest exams/e-j-edge-app --seats 2
    """
    from fleetops.exam.definition import load_exam
    from fleetops.exam.selftest import selftest as run

    folder = load_exam(Path(exam_dir))
    result = run(folder, seat_count, keep, progress=_progress(quiet or as_json))
    if as_json:
        print_json({"sitting": result.sitting, "ok": result.ok, "steps": result.steps, "problems": result.problems})
    else:
        for step in result.steps:
            click.echo(f"ok: {step}")
        for problem in result.problems:
            click.echo(f"FAIL: {problem}")
        click.echo(f"selftest {folder.exam.id}: {'passed' if result.ok else 'FAILED'}")
    if not result.ok:
        sys.exit(EXIT_SEAT_FAILED)


def _progress(silent: bool):
    return (lambda _m: None) if silent else (lambda message: click.echo(f"… {message}", err=True))


@exam.command()
@click.argument("exam_dir")
@click.option("--roster", type=click.Path(path_type=Path), required=True, help="Roster CSV.")
@click.option("--sitting", "sitting_id", default=None, help="Sitting id (default: <exam id>).")
@click.option("--lab", "lab_name", default="exam", show_default=True, help="Lab the seats run on.")
@click.option(
    "-i", "--inventory", "inventory", type=click.Path(path_type=Path), default=None,
    help="Seats on these real hosts instead of a lab (with --seats).",
)  # fmt: skip
@vault_password_option
@click.option(
    "--seats", "seats_file", type=click.Path(path_type=Path), default=None,
    help="seats.csv (seat,role,host) mapping seats onto the inventory's hosts.",
)  # fmt: skip
@click.option(
    "--shuffle-seats", "shuffle", type=int, default=None, metavar="SEED", help="Shuffle seats (seed recorded)."
)
@output_options
def provision(
    exam_dir: str,
    roster: Path,
    sitting_id: str | None,
    lab_name: str,
    inventory: Path | None,
    seats_file: Path | None,
    shuffle: int | None,
    verbose: int,
    quiet: bool,
    as_json: bool,
) -> None:
    """Make the seats: lab hosts (or real hosts), baseline + task setup, locked candidate accounts,
    then the baseline frozen into a hashed layer (lab) or fingerprinted (real hosts).

    \b
    fleetops exam provision exams/a-j-services --roster roster.csv --sitting 2026-12-05-am
    fleetops exam provision exams/a-j-services --roster r.csv -i prod/inventory.py --seats seats.csv
    """
    from fleetops.exam.definition import load_exam
    from fleetops.exam.provision import provision as run
    from fleetops.exam.roster import load_roster
    from fleetops.lab.spec import validate_lab_name

    folder = load_exam(Path(exam_dir))
    candidates = load_roster(roster)
    validate_lab_name(lab_name)
    if inventory is not None and not inventory.is_file():
        raise InputError(f"inventory not found: {inventory}")
    result = run(
        folder, candidates, sitting_id or folder.exam.id, lab_name, _progress(quiet or as_json), shuffle,
        inventory=inventory.resolve() if inventory else None, seats_file=seats_file,
    )  # fmt: skip
    sitting = result.sitting
    if as_json:
        print_json(
            {
                "sitting": sitting.id,
                "seats": {s.seat: s.to_dict() for s in sitting.seats.values()},
                "deploys": result.deploys,
                "frozen": result.frozen,
                "failed": result.failed,
            }
        )
    else:
        print_table(
            f"sitting {sitting.id}: exam {folder.exam.id} sha256 {folder.sha256[:16]}",
            ["seat", "candidate", "user", "hosts"],
            [
                (s.seat, s.candidate_id, s.user, " ".join(f"{h.host}={h.address}" for h in s.hosts))
                for s in sitting.selected()
            ],
        )
        for failure in result.failed:
            click.echo(f"failed: {failure}", err=True)
    if result.failed:
        sys.exit(EXIT_SEAT_FAILED)


@exam.command()
@sitting_option
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Folder (default: the sitting's handout/).")
@output_options
def handout(sitting_id: str | None, out: Path | None, verbose: int, quiet: bool, as_json: bool) -> None:
    """Slips (seat, addresses, user, one-time password) and each candidate's statements.

    \b
    fleetops exam handout --out /media/usb/handout
    """
    from fleetops.exam.handout import handout as run

    sitting = _sitting(sitting_id)
    paths = run(sitting, sitting.exam(), out)
    if as_json:
        print_json({"files": [str(p) for p in paths]})
    else:
        for path in paths:
            click.echo(str(path))


@exam.command()
@sitting_option
@seat_option
@output_options
def start(sitting_id: str | None, seats: tuple[str, ...], verbose: int, quiet: bool, as_json: bool) -> None:
    """Unlock the candidates' accounts; T0 per seat from the controller clock.

    \b
    fleetops exam start --seat s03
    """
    from fleetops.exam.window import start as run

    sitting = _sitting(sitting_id)
    folder = sitting.exam()
    answers = run(sitting, sitting.selected(seats), folder.exam.minutes)
    _answers(answers, sitting, as_json)


def _answers(answers, sitting, as_json: bool) -> None:
    if as_json:
        print_json([{"seat": a.seat, "ok": a.ok, "detail": a.detail} for a in answers])
    else:
        for answer in answers:
            seat = sitting.seats[answer.seat]
            click.echo(
                f"{answer.seat} {'ok' if answer.ok else 'FAILED'} {seat.state} {seat.ends_at or ''} {'' if answer.ok else answer.detail}"
            )
    if any(not a.ok for a in answers):
        sys.exit(EXIT_SEAT_FAILED)


@exam.command()
@sitting_option
@seat_option
@output_options
def stop(sitting_id: str | None, seats: tuple[str, ...], verbose: int, quiet: bool, as_json: bool) -> None:
    """Lock the candidates' accounts and end their sessions; T_end to the ledger.

    \b
    fleetops exam stop
    """
    from fleetops.exam.window import stop as run

    sitting = _sitting(sitting_id)
    _answers(run(sitting, sitting.selected(seats)), sitting, as_json)


@exam.command()
@click.argument("seat")
@click.argument("minutes", type=click.IntRange(1, 240))
@click.option("--reason", required=True, help="Why (goes to the ledger).")
@sitting_option
@output_options
def extend(
    seat: str, minutes: int, reason: str, sitting_id: str | None, verbose: int, quiet: bool, as_json: bool
) -> None:
    """Give one seat more minutes.

    \b
    fleetops exam extend s03 10 --reason "power cut at seat 3"
    """
    from fleetops.exam.window import extend as run

    sitting = _sitting(sitting_id)
    chosen = sitting.selected((seat,))[0]
    answer = run(sitting, chosen, minutes, sitting.exam().exam.minutes, reason)
    _answers([answer], sitting, as_json)


@exam.command()
@sitting_option
@seat_option
@output_options
def status(sitting_id: str | None, seats: tuple[str, ...], verbose: int, quiet: bool, as_json: bool) -> None:
    """Per seat: state, reachable, time left, candidate sessions.

    \b
    fleetops exam status
    """
    from fleetops.exam.window import status as run

    sitting = _sitting(sitting_id)
    rows = run(sitting, sitting.selected(seats))
    if as_json:
        print_json([row.__dict__ for row in rows])
        return
    print_table(
        f"sitting {sitting.id}",
        ["seat", "candidate", "state", "reachable", "sessions", "left", "note"],
        [
            (
                r.seat,
                r.candidate_id,
                r.state,
                "yes" if r.reachable else "NO",
                r.sessions,
                ""
                if r.left_s is None
                else ("over" if r.left_s < 0 else f"{int(r.left_s // 60)}m{int(r.left_s % 60):02d}s"),
                r.detail,
            )
            for r in rows
        ],
    )


@exam.command()
@sitting_option
@seat_option
@output_options
def collect(sitting_id: str | None, seats: tuple[str, ...], verbose: int, quiet: bool, as_json: bool) -> None:
    """Archive each candidate's changes (their layer) with a sha256 manifest.

    \b
    fleetops exam collect
    """
    from fleetops.exam.collect import collect as run

    sitting = _sitting(sitting_id)
    found = run(sitting, sitting.selected(seats))
    if as_json:
        print_json([c.__dict__ for c in found])
    else:
        for item in found:
            click.echo(
                f"{item.candidate_id}: {item.files} changed path(s), {item.bytes} bytes -> evidence/{item.candidate_id}/"
            )


@exam.command()
@sitting_option
@seat_option
@click.option("--candidate", "candidates", multiple=True, help="Only this candidate (repeatable).")
@click.option("--task", "tasks", multiple=True, help="Only this task's items (repeatable).")
@click.option("--reboot", is_flag=True, help="The after_reboot phase: reboot the seats, then grade those items.")
@output_options
def grade(
    sitting_id: str | None,
    seats: tuple[str, ...],
    candidates: tuple[str, ...],
    tasks: tuple[str, ...],
    reboot: bool,
    verbose: int,
    quiet: bool,
    as_json: bool,
) -> None:
    """Measure the seats (one SSH round trip per host) and compute points.

    A seat that cannot be reached is 'not graded' (exit 1), never 0 and never a pass; run
    grade again to measure it. Seats already measured are kept.

    \b
    fleetops exam grade
    fleetops exam grade --reboot
    """
    from fleetops.exam.grading import grade as run
    from fleetops.exam.grading import sheets

    sitting = _sitting(sitting_id)
    folder = sitting.exam()
    known = {t.id for t in folder.exam.tasks}
    for task in tasks:
        if task not in known:
            raise InputError(f"exam {folder.exam.id}: no task {task}")
    version, data = run(
        sitting, folder, sitting.selected(seats, candidates), "reboot" if reboot else "live", set(tasks) or None
    )
    result = sheets(sitting, folder, data)
    _print_sheets(result, version, as_json)
    if any(item.state == "not_graded" for sheet in result for item in sheet.items):
        sys.exit(EXIT_SEAT_FAILED)  # a seat or item could not be measured: retry 'exam grade'


def _print_sheets(result, version: int, as_json: bool) -> None:
    if as_json:
        print_json({"grading_version": version, "candidates": [s.to_dict() for s in result]})
        return
    print_table(
        f"grading v{version}",
        ["seat", "candidate", "status", "points", "pass", "flags"],
        [
            (
                s.seat,
                s.candidate_id,
                s.status,
                f"{s.total:g}/{s.max:g}",
                "yes" if s.passed else "no",
                "; ".join(s.flags),
            )
            for s in result
        ],
    )


@exam.command()
@click.argument("candidate")
@click.argument("item")
@click.option("--score", type=float, required=True)
@click.option("--judge", required=True, help="Judge id, e.g. J1.")
@click.option("--reason", default="", help="Why (goes to the ledger).")
@sitting_option
@output_options
def mark(
    candidate: str,
    item: str,
    score: float,
    judge: str,
    reason: str,
    sitting_id: str | None,
    verbose: int,
    quiet: bool,
    as_json: bool,
) -> None:
    """A judge's mark for a judged item (several judges: the median counts).

    \b
    fleetops exam mark C001 T6.1 --score 2 --judge J1
    """
    from fleetops.exam.regrade import mark as run

    sitting = _sitting(sitting_id)
    marks = run(sitting, sitting.exam(), candidate, item, score, judge, reason)
    if as_json:
        print_json(marks)
    else:
        click.echo(f"{candidate} {item}: " + ", ".join(f"{j} {m['score']:g}" for j, m in sorted(marks.items())))


@exam.command()
@click.option("--task", "task_id", required=True, help="The task to grade again for the whole cohort.")
@click.option("--reason", required=True, help="Why (goes to the ledger and the report).")
@sitting_option
@output_options
def regrade(task_id: str, reason: str, sitting_id: str | None, verbose: int, quiet: bool, as_json: bool) -> None:
    """Grade one task again for everyone as a new version (the old one is kept); prints the diff.

    \b
    fleetops exam regrade --task T2 --reason "T2.1 tested the wrong port"
    """
    from fleetops.exam.regrade import regrade as run

    sitting = _sitting(sitting_id)
    version, diffs = run(sitting, task_id, reason)
    if as_json:
        print_json({"grading_version": version, "diff": [d.__dict__ for d in diffs]})
        return
    click.echo(f"grading v{version} ({reason}):")
    for diff in diffs:
        change = "unchanged" if not diff.items else "; ".join(diff.items)
        click.echo(f"  {diff.seat} {diff.candidate_id}: {diff.before:g} -> {diff.after:g}  {change}")


@exam.command()
@sitting_option
@click.option("--version", "version", type=int, default=None, help="Grading version (default: the latest).")
@click.option("--html", "html", default=None, metavar="FILE")
@click.option("--csv", "csv_path", default=None, metavar="FILE")
@click.option("--json-file", "json_path", default=None, metavar="FILE")
@click.option("--junit", default=None, metavar="FILE")
@click.option("--reveal-hidden", is_flag=True, help="Show hidden items' checks and messages (examiners only).")
@output_options
def report(
    sitting_id: str | None,
    version: int | None,
    html: str | None,
    csv_path: str | None,
    json_path: str | None,
    junit: str | None,
    reveal_hidden: bool,
    verbose: int,
    quiet: bool,
    as_json: bool,
) -> None:
    """Candidate sheets, class matrix and item analysis as HTML, CSV, JSON and JUnit.

    \b
    fleetops exam report --html r.html --csv r.csv --junit r.xml
    """
    from fleetops.exam import report as reports
    from fleetops.exam.grading import load_version, sheets

    sitting = _sitting(sitting_id)
    data = load_version(sitting, version)
    if data is None:
        raise InputError(f"sitting {sitting.id}: nothing graded yet (run 'fleetops exam grade')")
    folder = sitting.exam(check_hash=False)
    if folder.sha256 != data["exam_sha256"]:
        raise InputError(f"the exam changed since grading v{data['version']}; report a newer version or regrade")
    report_data = reports.ReportData(
        folder,
        sitting.id,
        data["version"],
        data.get("updated", data["created"]),
        data.get("reason", ""),
        sitting.ledger.head(),
        sheets(sitting, folder, data),
        sitting.candidates(),
        reveal_hidden,
    )
    reports.write(
        report_data,
        output_path(html, "--html"),
        output_path(csv_path, "--csv"),
        output_path(json_path, "--json-file"),
        output_path(junit, "--junit"),
    )
    if as_json:
        print_json(reports.json_data(report_data))
    elif not quiet:
        _print_sheets(report_data.sheets, report_data.version, False)


@exam.command()
@sitting_option
@seat_option
@click.option("--verify-only", is_flag=True, help="Prove the seats are clean without resetting them.")
@click.option("--discard", is_flag=True, help="Delete the candidates' layers instead of archiving them.")
@output_options
def reset(
    sitting_id: str | None,
    seats: tuple[str, ...],
    verify_only: bool,
    discard: bool,
    verbose: int,
    quiet: bool,
    as_json: bool,
) -> None:
    """Back to baseline, and prove it: exit 1 naming every leftover while a seat differs.

    \b
    fleetops exam reset
    fleetops exam reset --verify-only
    """
    from fleetops.exam.reset import reset as run

    sitting = _sitting(sitting_id)
    proofs = run(sitting, sitting.selected(seats), verify_only=verify_only, keep=not discard)
    if as_json:
        print_json([p.__dict__ for p in proofs])
    else:
        for proof in proofs:
            click.echo(proof.line())
    if any(not p.clean for p in proofs):
        sys.exit(EXIT_SEAT_FAILED)


@exam.command()
@sitting_option
@click.option("--verify", is_flag=True, help="Check the hash chain and re-hash every recorded file.")
@output_options
def audit(sitting_id: str | None, verify: bool, verbose: int, quiet: bool, as_json: bool) -> None:
    """The sitting's ledger; --verify finds any edited line or changed file.

    \b
    fleetops exam audit --verify
    """
    sitting = _sitting(sitting_id)
    entries = sitting.ledger.entries() if not verify else []
    problems = sitting.ledger.verify(sitting.dir) if verify else []
    if as_json:
        print_json({"entries": entries, "problems": [p.__dict__ for p in problems]})
    elif verify:
        for problem in problems:
            click.echo(f"line {problem.line}: {problem.message}")
        count = len(sitting.ledger.path.read_text(encoding="utf-8").splitlines()) if sitting.ledger.path.exists() else 0
        click.echo(f"ledger {sitting.id}: {count} entries, {'OK' if not problems else f'{len(problems)} problem(s)'}")
    else:
        for entry in entries:
            click.echo(
                f"{entry['seq']:>4} {entry['time']} {entry['operator']:<8} {entry['action']:<14} {entry['hash'][:12]}"
            )
    if problems:
        sys.exit(EXIT_SEAT_FAILED)
