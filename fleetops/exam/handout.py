"""``exam handout``: one printable slip per candidate (seat, host addresses, user, one-time
password, the proctor's id check) followed by their own statements with their own values; and
a CSV of the same credentials for a proctor's sheet. Written 0600 under the sitting (or
``--out``); each file's hash goes to the ledger. Nothing of the rubric is in a hand-out."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from markdown_it import MarkdownIt

from fleetops.exam.definition import ExamFolder
from fleetops.exam.ledger import file_sha256
from fleetops.exam.provision import seat_values
from fleetops.exam.rubric import statement
from fleetops.exam.sitting import Sitting
from fleetops.fileutil import atomic_write_text, private_dir
from fleetops.render import render


def handout(sitting: Sitting, folder: ExamFolder, out: Path | None = None) -> list[Path]:
    directory = private_dir(out or sitting.dir / "handout")
    candidates = sitting.candidates()
    secrets = sitting.secrets()
    markdown = MarkdownIt("commonmark", {"html": False})  # statements are text, never raw HTML
    slips: list[dict] = []
    for seat in sorted(sitting.seats.values(), key=lambda s: s.seat):
        candidate = candidates[seat.candidate_id]
        values = seat_values(folder, sitting, candidate)
        tasks = [
            {"id": t.id, "title": t.title, "html": markdown.render(statement(folder, t, values)) if t.statement else ""}
            for t in folder.exam.tasks
        ]
        slips.append(
            {
                "seat": seat.seat,
                "candidate": candidate,
                "user": seat.user,
                "password": secrets.get(f"password:{seat.seat}", ""),
                "hosts": seat.hosts,
                "tasks": tasks,
            }
        )
    html = directory / "handout.html"
    atomic_write_text(html, render("reports/exam-handout.html.j2", exam=folder.exam, sitting=sitting, slips=slips))
    table = io.StringIO()
    writer = csv.writer(table)
    writer.writerow(["seat", "candidate_id", "name", "id_check", "user", "password", "hosts"])
    for slip in slips:
        writer.writerow(
            [
                slip["seat"],
                slip["candidate"].candidate_id,
                slip["candidate"].name,
                slip["candidate"].id_check,
                slip["user"],
                slip["password"],
                " ".join(f"{h.role}={h.address}" for h in slip["hosts"]),
            ]
        )
    credentials = directory / "credentials.csv"
    atomic_write_text(credentials, table.getvalue())
    sitting.ledger.append(
        "handout",
        {"seats": [s["seat"] for s in slips], "out": str(directory)},
        files={} if out else {str(p.relative_to(sitting.dir)): file_sha256(p) for p in (html, credentials)},
    )
    return [html, credentials]
