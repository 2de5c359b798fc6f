"""Every records read writes one audit row for the session's patient: action, outcome, client
ip and counts - never any of the record's text."""

from __future__ import annotations

from datetime import UTC
from pathlib import Path
from typing import Any

import pytest

from agent.db.pool import DatabaseSettings
from protocol.aio import RemoteError
from tests.agent.records.seeding import seed_records
from tests.support.practice import NOW, RunningPractice, running_practice

A, B = 3, 4
CLIENT = {"ip": "203.0.113.9", "user_agent": "test"}
ACTIONS = {"records.summary": "records.read", "records.bundle": "records.bundle"}


def record_rows(practice: RunningPractice) -> list[dict[str, Any]]:
    return practice.query("SELECT * FROM portal_audit WHERE action LIKE 'records.%%' ORDER BY id")


@pytest.mark.parametrize("method", sorted(ACTIONS))
async def test_a_read_writes_one_row_for_the_sessions_patient(
    practice_db: DatabaseSettings, link_keys: Path, method: str
) -> None:
    seed_records(practice_db, A, marker="CANARY-A")
    async with running_practice(practice_db, link_keys) as practice:
        await practice.client.request(method, {}, session=practice.session_for(A), client=CLIENT)
        (row,) = record_rows(practice)
    assert (row["actor"], row["patient_id"], row["action"], row["outcome"]) == (
        f"patient:{A}",
        A,
        ACTIONS[method],
        "ok",
    )
    assert row["client_ip"] == "203.0.113.9"
    assert row["occurred_at"] == NOW.astimezone(UTC).replace(tzinfo=None)


@pytest.mark.parametrize("method", sorted(ACTIONS))
async def test_the_row_counts_what_was_shown_and_holds_no_record_text(
    practice_db: DatabaseSettings, link_keys: Path, method: str
) -> None:
    seed_records(practice_db, A, marker="CANARY-A")
    async with running_practice(practice_db, link_keys) as practice:
        await practice.call(method, patient=A)
        (row,) = record_rows(practice)
    assert row["detail"] == "allergies:2 medications:2 problems:2 visits:2 labs:3 immunizations:0"
    assert "CANARY" not in str(row)
    assert "Pat3" not in str(row)


async def test_each_read_is_audited_again(practice_db: DatabaseSettings, link_keys: Path) -> None:
    async with running_practice(practice_db, link_keys) as practice:
        for _ in range(2):
            await practice.call("records.summary", patient=A)
        await practice.call("records.bundle", patient=B)
        rows = record_rows(practice)
    assert [(r["patient_id"], r["action"]) for r in rows] == [
        (A, "records.read"),
        (A, "records.read"),
        (B, "records.bundle"),
    ]


@pytest.mark.parametrize("method", sorted(ACTIONS))
async def test_a_refused_request_reads_nothing_and_writes_no_records_row(
    practice_db: DatabaseSettings, link_keys: Path, method: str
) -> None:
    async with running_practice(practice_db, link_keys) as practice:
        with pytest.raises(RemoteError):
            await practice.client.request(method, {"patient_id": A}, session=None)
        with pytest.raises(RemoteError):
            await practice.client.request(method, {"x": 1}, session=practice.session_for(A))
        assert record_rows(practice) == []
