"""Issue 13 item 7: immunizations in `records.summary`, beside the lists it already had.

Only the OpenEMR store reads immunizations, so the summary is checked three ways: built from a
record written in the test (the practice-zone day of an evening shot), from Ada's OpenEMR chart
(tests/agent/openemr/chart.py) as the reader returns it, and over the real link from Portico's
own schema (an empty list, every earlier key still there). Expected items are written by hand.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from agent.db.pool import DatabaseSettings
from agent.records.service import audit_detail, summary_view
from agent.store.base import ClinicalRecord, ImmunizationRow, PatientRow
from tests.agent.openemr.chart import ADA, BOB, read, write_charts
from tests.agent.openemr.chart import ZONE as NEW_YORK
from tests.support.openemr import OpenEMRDatabase
from tests.support.practice import running_practice

PATIENT = PatientRow(id=7, first_name="Ada", last_name="Lovelace", date_of_birth=date(1980, 2, 3))


def test_an_evening_shot_is_dated_on_the_practices_day_not_utcs() -> None:
    # 21:30 in New York on March 7 2026 (EST, -5) is 02:30 UTC on March 8.
    record = ClinicalRecord(
        patient=PATIENT,
        immunizations=(
            ImmunizationRow(
                id=5,
                vaccine="Tdap",
                administered_at=datetime(2026, 3, 8, 2, 30),
                cvx_code="115",
                lot_number="T-77",
                manufacturer="Acme Vaccines",
                expires_on=date(2027, 1, 31),
                note="Right arm",
            ),
        ),
    )
    assert summary_view(record, NEW_YORK)["immunizations"] == [
        {
            "id": 5,
            "vaccine": "Tdap",
            "cvx_code": "115",
            "status": "completed",
            "administered_at": "2026-03-08T02:30:00Z",
            "local_administered": "2026-03-07T21:30:00-05:00",
            "date": "2026-03-07",
            "lot_number": "T-77",
            "manufacturer": "Acme Vaccines",
            "expires_on": "2027-01-31",
            "note": "Right arm",
        }
    ]
    # The same instant in a zone east of UTC is still March 8.
    (tokyo,) = summary_view(record, ZoneInfo("Asia/Tokyo"))["immunizations"]
    assert (tokyo["local_administered"], tokyo["date"]) == (
        "2026-03-08T11:30:00+09:00",
        "2026-03-08",
    )


def test_a_declined_vaccine_without_a_date_keeps_its_status_and_nulls() -> None:
    record = ClinicalRecord(
        patient=PATIENT,
        immunizations=(ImmunizationRow(id=9, vaccine="", administered_at=None, status="not-done"),),
    )
    assert summary_view(record, NEW_YORK)["immunizations"] == [
        {
            "id": 9,
            "vaccine": "",
            "cvx_code": None,
            "status": "not-done",
            "administered_at": None,
            "local_administered": None,
            "date": None,
            "lot_number": None,
            "manufacturer": None,
            "expires_on": None,
            "note": None,
        }
    ]


def test_the_audit_detail_counts_immunizations_too() -> None:
    shot = ImmunizationRow(id=1, vaccine="Flu", administered_at=None)
    record = ClinicalRecord(patient=PATIENT, immunizations=(shot, shot))
    assert audit_detail(record) == (
        "allergies:0 medications:0 problems:0 visits:0 labs:0 immunizations:2"
    )


def test_an_openemr_chart_summarises_its_immunizations_newest_first(
    openemr_db: OpenEMRDatabase,
) -> None:
    ids = write_charts(openemr_db)
    record = read(openemr_db, ADA)
    assert record is not None
    summary = summary_view(record, NEW_YORK)
    # chart.py writes naive New York times: EDT (-4) in April and October, EST (-5) in January.
    assert summary["immunizations"] == [
        {
            "id": ids.shots["flu"],
            "vaccine": "Influenza, seasonal, injectable",
            "cvx_code": "141",
            "status": "completed",
            "administered_at": "2025-10-01T14:00:00Z",
            "local_administered": "2025-10-01T10:00:00-04:00",
            "date": "2025-10-01",
            "lot_number": "FL-2025",
            "manufacturer": "Acme Vaccines",
            "expires_on": "2026-06-30",
            "note": "Left arm",
        },
        {
            "id": ids.shots["refused"],
            "vaccine": "",
            "cvx_code": "33",
            "status": "not-done",
            "administered_at": "2024-01-10T16:00:00Z",
            "local_administered": "2024-01-10T11:00:00-05:00",
            "date": "2024-01-10",
            "lot_number": None,
            "manufacturer": "Acme Vaccines",
            "expires_on": None,
            "note": None,
        },
        {
            "id": ids.shots["covid"],
            "vaccine": "COVID-19, mRNA, Pfizer",
            "cvx_code": "208",
            "status": "completed",
            "administered_at": "2021-04-01T13:00:00Z",
            "local_administered": "2021-04-01T09:00:00-04:00",
            "date": "2021-04-01",
            "lot_number": "L123",
            "manufacturer": None,
            "expires_on": None,
            "note": None,
        },
    ]
    # Survives the link's JSON unchanged, and holds none of Bob's shot (2025-10-02).
    assert json.loads(json.dumps(summary)) == summary
    assert "2025-10-02" not in json.dumps(summary)
    bob = read(openemr_db, BOB)
    assert bob is not None
    assert [i["date"] for i in summary_view(bob, NEW_YORK)["immunizations"]] == ["2025-10-02"]


async def test_portico_schema_answers_an_empty_list_beside_the_earlier_keys(
    practice_db: DatabaseSettings, link_keys: Path
) -> None:
    async with running_practice(practice_db, link_keys) as practice:
        summary = await practice.call("records.summary", patient=3)
    assert set(summary) == {
        "patient",
        "allergies",
        "medications",
        "problems",
        "visits",
        "labs",
        "immunizations",
    }
    assert summary["immunizations"] == []
