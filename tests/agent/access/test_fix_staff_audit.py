"""Issue 11: "`audit`: column header, times in the practice's zone (say so), one precision;
`--patient` stops silently at 1,000 rows — page or say how many more."

The rows are written straight into portal_audit with chosen UTC times, so what the command
must print is known from the rules: the practice is in New York (UTC-4 in July, UTC-5 in
December), and every time is shown to the second with its offset.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest

from tests.agent.access.staff_office import Office
from tests.agent.access.staff_office import office as office
from tests.support.database import connect

PATIENT, OTHER = 9, 10


def _insert(office: Office, rows: list[tuple[datetime, int, str]]) -> None:
    connection = connect(office.settings, dict_rows=True)
    with connection, connection.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO portal_audit (occurred_at, actor, patient_id, action, outcome)"
            " VALUES (%s, 'staff:alice', %s, %s, 'ok')",
            rows,
        )


def test_audit_prints_a_header_and_practice_times_to_the_second(
    office: Office, capsys: pytest.CaptureFixture[str]
) -> None:
    _insert(
        office,
        [
            (datetime(2026, 7, 1, 16, 0, 0, 250000), PATIENT, "records.read"),
            (datetime(2026, 12, 1, 17, 30), PATIENT, "access.sign_in"),
            (datetime(2026, 12, 1, 17, 31), OTHER, "access.sign_in"),
        ],
    )
    assert office.run("audit", "--patient", str(PATIENT)) == 0
    captured = capsys.readouterr()
    lines = [line.split("\t") for line in captured.out.splitlines()]
    header, *rows = lines
    assert "time (America/New_York)" in header
    assert len(header) == len(rows[0]) == len(rows[1])
    column = {name: i for i, name in enumerate(header)}
    time = column["time (America/New_York)"]
    assert [row[time] for row in rows] == [
        "2026-07-01 12:00:00-04:00",  # the fraction of a second is not shown
        "2026-12-01 12:30:00-05:00",
    ]
    assert [row[column["action"]] for row in rows] == ["records.read", "access.sign_in"]
    assert "2 row(s)" in captured.err
    assert "America/New_York" in captured.err
    assert "UTC" not in captured.err

    # --since is a date in the same zone as the times shown: 2026-12-01 starts at 05:00 UTC.
    _insert(office, [(datetime(2026, 12, 1, 4, 59, 59), PATIENT, "before.midnight")])
    assert office.run("audit", "--patient", str(PATIENT), "--since", "2026-12-01") == 0
    out = capsys.readouterr().out.splitlines()[1:]
    assert [line.split("\t")[time] for line in out] == ["2026-12-01 12:30:00-05:00"]


def test_audit_says_how_many_more_rows_there_are_and_how_to_see_them(
    office: Office, capsys: pytest.CaptureFixture[str]
) -> None:
    start = datetime(2026, 12, 1, 12, 0)
    _insert(
        office,
        [(start + timedelta(seconds=i), PATIENT, f"read.{i}") for i in range(1003)]
        + [(start, OTHER, "other.patient")],
    )
    assert office.run("audit", "--patient", str(PATIENT)) == 0
    captured = capsys.readouterr()
    first_page = captured.out.splitlines()[1:]
    assert len(first_page) == 1000
    assert "3 more row(s)" in captured.err
    options = re.search(r"--after (\d+)", captured.err)
    assert options is not None, captured.err

    assert office.run("audit", "--patient", str(PATIENT), "--after", options[1]) == 0
    captured = capsys.readouterr()
    action = captured.out.splitlines()[0].split("\t").index("action")
    rest = [line.split("\t")[action] for line in captured.out.splitlines()[1:]]
    assert rest == ["read.1000", "read.1001", "read.1002"]
    assert "more row" not in captured.err
