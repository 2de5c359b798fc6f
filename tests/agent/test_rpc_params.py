"""Bad input on every method gets `invalid_params` naming the field, never a crash."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agent.db.pool import DatabaseSettings
from protocol.aio import RemoteError
from tests.support.practice import FOLLOW_UP, running_practice

GOOD_START = "2026-11-25T15:00:00Z"

CASES: list[tuple[str, dict[str, Any], str]] = [
    ("booking.book", {"provider_id": 1, "start": GOOD_START}, "appointment_type_id: required"),
    ("booking.book", {"appointment_type_id": "1", "start": GOOD_START}, "appointment_type_id"),
    ("booking.book", {"appointment_type_id": True, "start": GOOD_START}, "appointment_type_id"),
    ("booking.book", {"appointment_type_id": 0, "start": GOOD_START}, "appointment_type_id"),
    ("booking.book", {"appointment_type_id": -5, "start": GOOD_START}, "appointment_type_id"),
    ("booking.book", {"appointment_type_id": 2**63, "start": GOOD_START}, "appointment_type_id"),
    ("booking.book", {"appointment_type_id": [1], "start": GOOD_START}, "appointment_type_id"),
    ("booking.book", {"appointment_type_id": 1.5, "start": GOOD_START}, "appointment_type_id"),
    ("booking.book", {"appointment_type_id": 1, "start": "tomorrow"}, "start"),
    ("booking.book", {"appointment_type_id": 1, "start": "2026-11-25T15:00:00"}, "start"),
    ("booking.book", {"appointment_type_id": 1, "start": "2026-11-25T15:00:30Z"}, "start"),
    ("booking.book", {"appointment_type_id": 1, "start": 1764082800}, "start"),
    (
        "booking.book",
        {"appointment_type_id": 1, "start": GOOD_START, "patient_id": 2},
        "patient_id: unknown parameter",
    ),
    ("booking.cancel", {"appointment_id": "7"}, "appointment_id"),
    ("booking.cancel", {"appointment_id": 2**63}, "appointment_id"),
    ("booking.cancel", {"appointment_id": None}, "appointment_id"),
    ("booking.cancel", {}, "appointment_id: required"),
    ("booking.reschedule", {"appointment_id": 1, "start": {"a": 1}}, "start"),
    ("booking.availability", {"appointment_type_id": 1, "days": 0}, "days"),
    ("booking.availability", {"appointment_type_id": 1, "days": 400}, "days"),
    ("booking.availability", {"appointment_type_id": 1, "from_date": "2026-13-01"}, "from_date"),
    ("booking.providers", {"appointment_type_id": "x"}, "appointment_type_id"),
    ("appointments.list", {"all": True}, "all: unknown parameter"),
    ("practice.info", {"x": 1}, "x: unknown parameter"),
]


@pytest.mark.parametrize(("method", "params", "names"), CASES)
async def test_invalid_params_name_the_field(
    practice_db: DatabaseSettings,
    link_keys: Path,
    method: str,
    params: dict[str, Any],
    names: str,
) -> None:
    async with running_practice(practice_db, link_keys) as practice:
        with pytest.raises(RemoteError) as refused:
            await practice.client.request(method, params, session=practice.session_for(1))
        assert refused.value.code == "invalid_params"
        assert names in refused.value.message
        assert practice.query("SELECT COUNT(*) AS n FROM appointments") == [{"n": 0}]


async def test_unknown_method_and_missing_session(
    practice_db: DatabaseSettings, link_keys: Path
) -> None:
    async with running_practice(practice_db, link_keys) as practice:
        with pytest.raises(RemoteError) as unknown:
            await practice.client.request("booking.delete_everything", {})
        assert unknown.value.code == "not_found"
        real = practice.session_for(1)
        for session in (None, "", real[:-1], real + "x", real.upper(), "x" * 128):
            with pytest.raises(RemoteError) as anonymous:
                await practice.client.request(
                    "booking.book",
                    {"appointment_type_id": FOLLOW_UP, "start": GOOD_START},
                    session=session,
                )
            assert anonymous.value.code == "unauthenticated"
        # A session too long for the protocol fails that request only; the link stays up.
        with pytest.raises(RemoteError) as too_long:
            await practice.client.request("appointments.list", {}, session="x" * 257)
        assert too_long.value.code == "invalid_params"
        assert "session" in too_long.value.message
        assert (await practice.client.request("practice.info", {}))["name"]
        assert practice.query("SELECT COUNT(*) AS n FROM appointments") == [{"n": 0}]
