"""Patients and charts through the OpenEMR store (agent/openemr/store/patients.py, charts.py),
both sql_modes, on a pool whose default database is another (empty) one. Expected values are
written by hand from README 2.1 (the chart's expected record: tests/agent/openemr/chart.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from agent.store.base import PatientRow
from agent.store.errors import PracticeReadOnly
from tests.agent.openemr.chart import ADA, NOW, expected_ada, write_charts
from tests.agent.openemr.store import openemr_store, read
from tests.support.openemr import OpenEMRDatabase
from tests.support.openemr.rows import add_patient

TODAY = datetime(2026, 11, 16, 15, 0, tzinfo=UTC)


def seed(db: OpenEMRDatabase) -> None:
    # patient_data.id is not pid: 2002 is written first and gets id 1.
    add_patient(db, 2002, fname="Cy", lname="Other", dob="1980-04-02", portal="NO")
    add_patient(db, 1001, email="ada@example.org", postal_code="02139-4307", dob="1980-04-02")
    add_patient(db, 1003, fname="Grace", lname="Hopper", dob="1906-12-09", portal="")
    add_patient(db, 1004, fname="Late", lname="Patient", deceased="2026-01-05 00:00:00")
    add_patient(db, 1005, fname="Lower", lname="Case", dob="1990-01-01", portal="yes")


async def test_identity_fields_by_pid(openemr_db: OpenEMRDatabase) -> None:
    seed(openemr_db)
    async with openemr_store(openemr_db, TODAY) as store:
        ada = await read(store, store.patient, 1001)
        missing = await read(store, store.patient, 1)  # patient_data.id 1, no pid 1
        everyone = await read(store, store.patients)
        born = await read(store, store.patients_born_on, date(1980, 4, 2))
        locked_read = await read(
            store, lambda tx: store.patients_born_on(tx, date(1980, 4, 2), lock=True)
        )
        nobody = await read(store, store.patients_born_on, date(1980, 4, 3))

    assert ada == PatientRow(
        1001, "Ada", "Lovelace", date(1980, 4, 2), "ada@example.org", None, "02139-4307"
    )
    assert missing is None
    assert [p.id for p in everyone] == [1001, 1003, 1004, 1005, 2002]
    assert everyone[1] == PatientRow(1003, "Grace", "Hopper", date(1906, 12, 9))
    assert [p.id for p in born] == [1001, 1004, 2002]  # add_patient's default DOB for 1004
    assert locked_read == born
    assert nobody == []


async def test_portal_permission_is_exactly_yes_and_alive_and_read_each_time(
    openemr_db: OpenEMRDatabase,
) -> None:
    seed(openemr_db)
    async with openemr_store(openemr_db, TODAY) as store:
        allowed = {
            pid: await read(store, store.portal_allowed, pid)
            for pid in (1001, 2002, 1003, 1004, 1005, 9999)
        }
        # Staff switch Ada off in OpenEMR's demographics page: the next call sees it.
        connection = openemr_db.as_openemr()
        with connection, connection.cursor() as cursor:
            cursor.execute("UPDATE patient_data SET allow_patient_portal = 'NO' WHERE pid = 1001")
        after_off = await read(store, store.portal_allowed, 1001)
        await read(store, store.set_portal_allowed, 1003, True)
        await read(store, store.set_portal_allowed, 2002, False)
        grace = await read(store, store.portal_allowed, 1003)

    assert allowed == {
        1001: True,
        2002: False,  # 'NO'
        1003: False,  # '' (never set)
        1004: False,  # 'YES' but deceased
        1005: False,  # 'yes': OpenEMR's portal compares exactly
        9999: False,
    }
    assert after_off is False
    assert grace is True
    rows = openemr_db.query(
        "SELECT pid, allow_patient_portal FROM patient_data WHERE pid IN (1003, 2002) ORDER BY pid"
    )
    assert rows == [
        {"pid": 1003, "allow_patient_portal": "YES"},
        {"pid": 2002, "allow_patient_portal": "NO"},
    ]


async def test_charts_and_their_email_are_openemrs_to_write(openemr_db: OpenEMRDatabase) -> None:
    seed(openemr_db)
    before = openemr_db.query("SELECT * FROM patient_data ORDER BY id")
    async with openemr_store(openemr_db, TODAY) as store:
        with pytest.raises(PracticeReadOnly):
            await read(
                store,
                lambda tx: store.create_patient(
                    tx,
                    first_name="New",
                    last_name="Person",
                    date_of_birth=date(2000, 1, 1),
                    email="new@example.org",
                    home_zip="02139",
                ),
            )
        with pytest.raises(PracticeReadOnly):
            await read(store, store.set_patient_email, 1001, "other@example.org")
    assert openemr_db.query("SELECT * FROM patient_data ORDER BY id") == before


async def test_the_clinical_record_through_the_store(openemr_db: OpenEMRDatabase) -> None:
    ids = write_charts(openemr_db)
    async with openemr_store(openemr_db, NOW) as store:
        ada = await read(store, store.clinical_record, ADA)
        missing = await read(store, store.clinical_record, 4242)
    assert ada == expected_ada(ids)
    assert missing is None
