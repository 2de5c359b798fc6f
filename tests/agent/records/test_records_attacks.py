"""Asking for records the wrong way: bad params, no session, and rows filed across patients."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from agent.db.pool import DatabaseSettings
from protocol.aio import RemoteError
from tests.agent.records.sample import downloaded
from tests.agent.records.seeding import seed_records
from tests.support.practice import running_practice

A, B = 3, 4
METHODS = ("records.summary", "records.bundle")


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"patient_id": B}, "patient_id: unknown parameter"),
        ({"format": "xml"}, "format: unknown parameter"),
        ({"patient_id": "4", "since": None}, "since: unknown parameter"),
    ],
)
async def test_unknown_parameters_are_refused_by_name(
    practice_db: DatabaseSettings,
    link_keys: Path,
    method: str,
    params: dict[str, Any],
    named: str,
) -> None:
    seed_records(practice_db, B, marker="CANARY-B")
    async with running_practice(practice_db, link_keys) as practice:
        with pytest.raises(RemoteError) as refused:
            await practice.client.request(method, params, session=practice.session_for(A))
    assert refused.value.code == "invalid_params"
    assert named in refused.value.message
    assert "CANARY-B" not in refused.value.message
    assert "xml" not in refused.value.message  # names the field, never echoes the value


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("session", [None, "", "not-a-session", "x" * 129])
async def test_without_a_live_session_the_answer_is_unauthenticated(
    practice_db: DatabaseSettings, link_keys: Path, method: str, session: str | None
) -> None:
    seed_records(practice_db, A, marker="CANARY-A")
    async with running_practice(practice_db, link_keys) as practice:
        with pytest.raises(RemoteError) as refused:
            await practice.client.request(method, {}, session=session)
    assert refused.value.code == "unauthenticated"
    assert "CANARY-A" not in refused.value.message


async def test_a_lab_filed_against_another_patients_visit_does_not_point_at_it(
    practice_db: DatabaseSettings, link_keys: Path
) -> None:
    theirs = seed_records(practice_db, B, marker="CANARY-B")["visits"][0]["id"]
    async with running_practice(practice_db, link_keys) as practice:
        practice.query(
            "INSERT INTO lab_results (patient_id, encounter_id, test_name, value, collected_at)"
            " VALUES (%s, %s, 'Ferritin', '80', '2026-10-02 15:00:00')",
            (A, theirs),
        )
        summary = await practice.call("records.summary", patient=A)
        bundle = downloaded(await practice.call("records.bundle", patient=A))
    assert [lab["visit_id"] for lab in summary["labs"]] == [None]
    (observation,) = [e["resource"] for e in bundle["entry"][1:]]
    assert "encounter" not in observation
    assert "CANARY-B" not in json.dumps([summary, bundle], default=str)


async def test_a_patients_records_never_include_rows_without_their_id(
    practice_db: DatabaseSettings, link_keys: Path
) -> None:
    # Rows of every kind exist for B only; A's session must see an empty record.
    seed_records(practice_db, B, marker="CANARY-B")
    seed_records(practice_db, B + 1, marker="CANARY-C")
    async with running_practice(practice_db, link_keys) as practice:
        summary = await practice.call("records.summary", patient=A)
        bundle = downloaded(await practice.call("records.bundle", patient=A))
    assert [e["resource"]["resourceType"] for e in bundle["entry"]] == ["Patient"]
    assert "CANARY" not in json.dumps([summary, bundle], default=str)


@pytest.mark.parametrize("method", METHODS)
async def test_a_session_whose_patient_row_is_gone_gets_not_found_and_is_audited(
    practice_db: DatabaseSettings, link_keys: Path, method: str
) -> None:
    async with running_practice(practice_db, link_keys) as practice:
        session = practice.session_for(A)
        # The office merged or removed the patient while the session was alive.
        connection = practice.connect()
        with connection, connection.cursor() as cursor:
            cursor.execute("SET foreign_key_checks = 0")
            cursor.execute("DELETE FROM patients WHERE id = %s", (A,))
        with pytest.raises(RemoteError) as refused:
            await practice.client.request(method, {}, session=session)
        rows = practice.query("SELECT outcome FROM portal_audit WHERE action LIKE 'records.%%'")
    assert refused.value.code == "not_found"
    assert rows == [{"outcome": "not_found"}]
