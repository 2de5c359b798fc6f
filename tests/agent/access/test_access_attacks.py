"""Patient A, signed in, goes after patient B's appointments with every booking method.

A session acts only on its own patient (docs/protocol.md section 12): B's appointment ids and
ids that do not exist get the identical not_found answer, ill-typed ids are invalid_params, and
nothing A sends reads or changes a row of B's.

Every test runs on both practice systems (`small_practice`: portico and openemr).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from protocol.aio import RemoteError
from tests.agent.access_fixtures import AccessPractice, access_practice, as_json
from tests.support.practice import SmallPractice

A, B = 1, 2  # the patients' numbers in the small practice
NOT_FOUND = ("not_found", "That appointment was not found.")
MARKER = "'; DROP TABLE appointments; --"
BAD_IDS: list[Any] = [
    -1,
    0,
    -(2**63),
    2**63,
    2**64,
    "1",
    "7",
    MARKER,
    [1],
    [],
    {"id": 1},
    1.0,
    1.5,
    True,
    None,
]


def snapshot(practice: AccessPractice) -> list[list[dict[str, Any]]]:
    return [
        practice.ids.appointments(),
        practice.query("SELECT * FROM portal_idempotency ORDER BY patient_id, idempotency_key"),
        practice.ids.patient_row(practice.ids.patient(B)),
    ]


async def free_starts(practice: AccessPractice, session: str, count: int) -> list[str]:
    slots = await practice.call(
        "booking.availability",
        session,
        appointment_type_id=practice.ids.FOLLOW_UP,
        provider_id=practice.ids.DR_ADAMS,
        days=5,
    )
    # An hour apart, so that 30-minute appointments at these starts never overlap.
    starts = [slot["start"] for day in slots["days"] for slot in day["slots"]][::4]
    assert len(starts) >= count
    return starts[:count]


async def book(practice: AccessPractice, session: str, start: str, key: str) -> dict[str, Any]:
    booked: dict[str, Any] = await practice.call_raw(
        "booking.book",
        {
            "appointment_type_id": practice.ids.FOLLOW_UP,
            "provider_id": practice.ids.DR_ADAMS,
            "start": start,
        },
        session,
        key,
    )
    return booked


def assert_nothing_of_b(answer: Any, b_ids: set[int]) -> None:
    text = as_json(answer)
    assert "Pat2" not in text and f"pat{B}@example.org" not in text
    if isinstance(answer, dict):
        for appointment in answer.get("upcoming", []) + answer.get("past", []):
            assert appointment["id"] not in b_ids


async def test_b_s_appointments_and_missing_ones_look_the_same_to_a(
    small_practice: SmallPractice, link_keys: Path
) -> None:
    async with access_practice(small_practice, link_keys) as practice:
        a = await practice.signed_in_patient(small_practice.patient(A))
        b = await practice.signed_in_patient(small_practice.patient(B))
        s1, s2, s3, free = await free_starts(practice, b, 4)
        b1 = (await book(practice, b, s1, "b-1"))["id"]
        b2 = (await book(practice, b, s2, "b-2"))["id"]
        a1 = (await book(practice, a, s3, "a-1"))["id"]
        missing = max(b1, b2, a1) + 1000
        before = snapshot(practice)

        answers: dict[tuple[str, int], tuple[str, str]] = {}
        for target in (b1, b2, missing, 2**63 - 1):
            for method, params in (
                ("booking.cancel", {"appointment_id": target}),
                ("booking.reschedule", {"appointment_id": target, "start": free}),
                (
                    "booking.reschedule",
                    {
                        "appointment_id": target,
                        "start": free,
                        "provider_id": small_practice.DR_BAKER,
                    },
                ),
            ):
                error = await practice.refused_raw(method, params, a)
                answers[(method, target)] = (error.code, error.message)
                assert "Pat2" not in error.message
                # With B's own idempotency key, A must not get B's stored reply either.
                replay = await practice.refused_raw(method, params, a, key="b-1")
                assert (replay.code, replay.message) == NOT_FOUND
        assert set(answers.values()) == {NOT_FOUND}

        assert snapshot(practice) == before
        listing = await practice.call("appointments.list", a)
        assert [x["id"] for x in listing["upcoming"]] == [a1]
        assert_nothing_of_b(listing, {b1, b2})


async def test_ill_typed_and_out_of_range_ids_are_invalid_params(
    small_practice: SmallPractice, link_keys: Path
) -> None:
    async with access_practice(small_practice, link_keys) as practice:
        a = await practice.signed_in_patient(small_practice.patient(A))
        b = await practice.signed_in_patient(small_practice.patient(B))
        s1, free = await free_starts(practice, b, 2)
        b1 = (await book(practice, b, s1, "b-1"))["id"]
        before = snapshot(practice)

        calls: list[tuple[str, str, dict[str, Any]]] = []
        for bad in [*BAD_IDS, str(b1), [b1], float(b1)]:
            calls += [
                ("booking.cancel", "appointment_id", {"appointment_id": bad}),
                ("booking.reschedule", "appointment_id", {"appointment_id": bad, "start": free}),
                (
                    "booking.book",
                    "appointment_type_id",
                    {"appointment_type_id": bad, "start": free},
                ),
                ("booking.availability", "appointment_type_id", {"appointment_type_id": bad}),
                (
                    "booking.availability",
                    "days",
                    {"appointment_type_id": small_practice.FOLLOW_UP, "days": bad},
                ),
            ]
            if bad is not None:  # a null provider means "No preference", which is allowed
                type_and = {"appointment_type_id": small_practice.FOLLOW_UP, "provider_id": bad}
                calls += [
                    ("booking.book", "provider_id", {**type_and, "start": free}),
                    (
                        "booking.reschedule",
                        "provider_id",
                        {"appointment_id": b1, "provider_id": bad, "start": free},
                    ),
                    ("booking.availability", "provider_id", type_and),
                    ("booking.providers", "appointment_type_id", {"appointment_type_id": bad}),
                ]
        for method, field, params in calls:
            error = await practice.refused_raw(method, params, a)
            assert error.code == "invalid_params", (method, params, error)
            assert field in error.message, (method, params, error.message)
            assert "DROP" not in error.message  # the value sent is never echoed

        assert snapshot(practice) == before


async def test_a_cannot_name_another_patient_in_any_method(
    small_practice: SmallPractice, link_keys: Path
) -> None:
    async with access_practice(small_practice, link_keys) as practice:
        a = await practice.signed_in_patient(small_practice.patient(A))
        b = await practice.signed_in_patient(small_practice.patient(B))
        s1, free = await free_starts(practice, b, 2)
        b1 = (await book(practice, b, s1, "b-1"))["id"]
        before = snapshot(practice)

        smuggled = {"patient_id": small_practice.patient(B)}
        for method, params in (
            ("appointments.list", smuggled),
            ("appointments.list", {"appointment_id": b1}),
            ("booking.cancel", {"appointment_id": b1, **smuggled}),
            ("booking.reschedule", {"appointment_id": b1, "start": free, **smuggled}),
            (
                "booking.book",
                {"appointment_type_id": small_practice.FOLLOW_UP, "start": free, **smuggled},
            ),
            ("booking.availability", {"appointment_type_id": small_practice.FOLLOW_UP, **smuggled}),
            ("booking.providers", smuggled),
            ("access.account", smuggled),
        ):
            error = await practice.refused_raw(method, params, a)
            assert error.code == "invalid_params", (method, error)
            assert "unknown parameter" in error.message
            assert_nothing_of_b(error.message, {b1})

        # B's exact request, B's idempotency key: A gets A's own answer, never B's appointment.
        taken = await practice.refused_raw(
            "booking.book",
            {
                "appointment_type_id": small_practice.FOLLOW_UP,
                "provider_id": small_practice.DR_ADAMS,
                "start": s1,
            },
            a,
            key="b-1",
        )
        assert taken.code == "slot_unavailable"

        # What A may read holds nothing of B's.
        for method, params in (
            ("appointments.list", {}),
            ("booking.providers", {}),
            ("booking.providers", {"appointment_type_id": small_practice.NEW_PATIENT}),
            ("booking.appointment_types", {}),
            ("booking.availability", {"appointment_type_id": small_practice.FOLLOW_UP, "days": 5}),
            ("access.account", {}),
        ):
            assert_nothing_of_b(await practice.call_raw(method, params, a), {b1})
        assert snapshot(practice) == before


async def test_tampered_and_stolen_session_values_sign_nobody_in(
    small_practice: SmallPractice, link_keys: Path
) -> None:
    async with access_practice(small_practice, link_keys) as practice:
        b = await practice.signed_in_patient(small_practice.patient(B))
        [row] = practice.query("SELECT token_hash FROM portal_sessions")
        flipped = b[:-1] + ("A" if b[-1] != "A" else "B")
        for session in (flipped, b.upper(), b[:-1], b + "x", row["token_hash"], "null", " "):
            error: RemoteError = await practice.refused("appointments.list", session)
            assert error.code == "unauthenticated", session
        assert (await practice.call("appointments.list", b)) == {"upcoming": [], "past": []}
        start = "2026-11-30T15:00:00Z"
        for method, params in (
            ("appointments.list", {}),
            ("booking.availability", {"appointment_type_id": small_practice.FOLLOW_UP}),
            ("booking.book", {"appointment_type_id": small_practice.FOLLOW_UP, "start": start}),
            ("booking.cancel", {"appointment_id": 1}),
            ("booking.reschedule", {"appointment_id": 1, "start": start}),
            ("access.account", {}),
        ):
            anonymous = await practice.refused_raw(method, params)
            assert anonymous.code == "unauthenticated", method
