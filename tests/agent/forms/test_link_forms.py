"""forms.list, forms.get and forms.save over a real link: what a patient sees and does."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from protocol.aio import RemoteError
from tests.agent.forms.seeding import (
    CHECKUP,
    CHECKUP_ANSWERS,
    CHECKUP_SENT,
    INTAKE,
    assign_form,
)
from tests.support.practice import NOW, RunningPractice

PATIENT = 1


async def test_a_patient_without_forms_sees_an_empty_list(practice: RunningPractice) -> None:
    assert await practice.call("forms.list", PATIENT) == {"forms": []}


async def test_list_shows_title_status_and_times_in_utc_and_local(
    practice: RunningPractice,
) -> None:
    assignment = assign_form(practice.settings, PATIENT, CHECKUP)
    assert await practice.call("forms.list", PATIENT) == {
        "forms": [
            {
                "assignment_id": assignment,
                "title": "Check-up questions",
                "status": "assigned",
                "assigned_at": "2026-11-23T12:00:00Z",
                "local_assigned": "2026-11-23T07:00:00-05:00",
                "submitted_at": None,
                "local_submitted": None,
            }
        ]
    }


async def test_list_puts_open_forms_first_newest_first(practice: RunningPractice) -> None:
    settings = practice.settings
    sent = assign_form(settings, PATIENT, CHECKUP, now=NOW - timedelta(days=3))
    older = assign_form(settings, PATIENT, INTAKE, now=NOW - timedelta(days=2))
    newer = assign_form(settings, PATIENT, CHECKUP, now=NOW - timedelta(days=1))
    await practice.call(
        "forms.save", PATIENT, assignment_id=sent, answers=CHECKUP_ANSWERS, submit=True
    )
    listed = (await practice.call("forms.list", PATIENT))["forms"]
    assert [(f["assignment_id"], f["status"]) for f in listed] == [
        (newer, "assigned"),
        (older, "assigned"),
        (sent, "submitted"),
    ]
    assert listed[2]["submitted_at"] == "2026-11-23T12:00:00Z"
    assert listed[2]["local_submitted"] == "2026-11-23T07:00:00-05:00"


async def test_get_returns_every_question_as_the_contract_describes(
    practice: RunningPractice,
) -> None:
    assignment = assign_form(practice.settings, PATIENT, CHECKUP)
    form = await practice.call("forms.get", PATIENT, assignment_id=assignment)
    assert {k: v for k, v in form.items() if k != "fields"} == {
        "assignment_id": assignment,
        "title": "Check-up questions",
        "description": "Please answer before your visit.",
        "status": "assigned",
        "answers": {},
    }
    fields = {f["name"]: f for f in form["fields"]}
    assert list(fields) == list(CHECKUP_ANSWERS)
    assert fields["nickname"] == {
        "name": "nickname",
        "label": "What should we call you?",
        "type": "text",
        "required": False,
        "help": None,
        "max_length": 40,
    }
    assert fields["born"]["required"] is True
    assert fields["born"]["help"] == "As on your insurance card."
    assert fields["colour"]["choices"] == [
        {"value": "red", "label": "red"},
        {"value": "green", "label": "Green as grass"},
    ]
    assert [repr(fields["weight"][limit]) for limit in ("min", "max")] == ["50", "800"]
    assert fields["notes"]["max_length"] == 5000
    assert "max_length" not in fields["smoker"] and "choices" not in fields["smoker"]


async def test_a_draft_is_kept_exactly_as_typed(practice: RunningPractice) -> None:
    assignment = assign_form(practice.settings, PATIENT, CHECKUP)
    typed = {"born": "last spring", "weight": "heavy", "symptoms": ["cough"], "nickname": " P "}
    reply = await practice.call(
        "forms.save", PATIENT, assignment_id=assignment, answers=typed, submit=False
    )
    assert reply == {"status": "draft"}
    form = await practice.call("forms.get", PATIENT, assignment_id=assignment)
    assert (form["status"], form["answers"]) == ("draft", typed)
    (row,) = practice.query(
        "SELECT status, draft_saved_at, submitted_at FROM portal_form_assignments WHERE id = %s",
        (assignment,),
    )
    assert row == {
        "status": "draft",
        "draft_saved_at": NOW.replace(tzinfo=None),
        "submitted_at": None,
    }


async def test_a_later_draft_replaces_the_earlier_one(practice: RunningPractice) -> None:
    assignment = assign_form(practice.settings, PATIENT, CHECKUP)
    for answers in ({"nickname": "A", "notes": "x"}, {"nickname": "B"}):
        await practice.call(
            "forms.save", PATIENT, assignment_id=assignment, answers=answers, submit=False
        )
    form = await practice.call("forms.get", PATIENT, assignment_id=assignment)
    assert form["answers"] == {"nickname": "B"}


async def test_submit_keeps_the_normalised_answers_and_is_final(
    practice: RunningPractice,
) -> None:
    assignment = assign_form(practice.settings, PATIENT, CHECKUP)
    await practice.call(
        "forms.save", PATIENT, assignment_id=assignment, answers={"notes": "draft"}, submit=False
    )
    practice.set_clock(NOW + timedelta(hours=1))
    reply = await practice.call(
        "forms.save", PATIENT, assignment_id=assignment, answers=CHECKUP_ANSWERS, submit=True
    )
    assert reply == {"status": "submitted"}
    form = await practice.call("forms.get", PATIENT, assignment_id=assignment)
    assert (form["status"], form["answers"]) == ("submitted", CHECKUP_SENT)
    (row,) = practice.query(
        "SELECT submitted_at FROM portal_form_assignments WHERE id = %s", (assignment,)
    )
    assert row["submitted_at"] == (NOW + timedelta(hours=1)).replace(tzinfo=None)


async def test_wrong_answers_are_refused_naming_each_question(practice: RunningPractice) -> None:
    assignment = assign_form(practice.settings, PATIENT, CHECKUP)
    answers = {**CHECKUP_ANSWERS, "born": "2026-02-30", "smoker": "", "weight": "12"}
    with pytest.raises(RemoteError) as refused:
        await practice.call(
            "forms.save", PATIENT, assignment_id=assignment, answers=answers, submit=True
        )
    assert refused.value.code == "invalid_params"
    assert refused.value.message == (
        "answers.born: That date does not exist - check the month, day and year; "
        "answers.smoker: This question needs an answer; "
        "answers.weight: Enter a number from 50 to 800"
    )
    assert refused.value.details == {
        "answers": {
            "born": "That date does not exist - check the month, day and year",
            "smoker": "This question needs an answer",
            "weight": "Enter a number from 50 to 800",
        }
    }


async def test_a_refused_submission_changes_nothing(practice: RunningPractice) -> None:
    assignment = assign_form(practice.settings, PATIENT, CHECKUP)
    await practice.call(
        "forms.save", PATIENT, assignment_id=assignment, answers={"notes": "kept"}, submit=False
    )
    with pytest.raises(RemoteError):
        await practice.call(
            "forms.save", PATIENT, assignment_id=assignment, answers={"notes": "x"}, submit=True
        )
    form = await practice.call("forms.get", PATIENT, assignment_id=assignment)
    assert (form["status"], form["answers"]) == ("draft", {"notes": "kept"})


@pytest.mark.parametrize("submit", [True, False], ids=["submit", "draft"])
async def test_nothing_can_be_saved_after_sending(practice: RunningPractice, submit: bool) -> None:
    assignment = assign_form(practice.settings, PATIENT, CHECKUP)
    await practice.call(
        "forms.save", PATIENT, assignment_id=assignment, answers=CHECKUP_ANSWERS, submit=True
    )
    with pytest.raises(RemoteError) as refused:
        await practice.call(
            "forms.save", PATIENT, assignment_id=assignment, answers={"notes": "x"}, submit=submit
        )
    assert (refused.value.code, refused.value.message) == (
        "forbidden",
        "This form was already sent to the office.",
    )
    form = await practice.call("forms.get", PATIENT, assignment_id=assignment)
    assert form["answers"] == CHECKUP_SENT


async def test_a_repeated_submit_with_its_idempotency_key_gets_the_first_reply(
    practice: RunningPractice,
) -> None:
    assignment = assign_form(practice.settings, PATIENT, CHECKUP)
    session = practice.session_for(PATIENT)
    params = {"assignment_id": assignment, "answers": CHECKUP_ANSWERS, "submit": True}
    replies = [
        await practice.client.request(
            "forms.save", params, session=session, idempotency_key="k-1", deadline=20
        )
        for _ in range(2)
    ]
    assert replies == [{"status": "submitted"}] * 2
    with pytest.raises(RemoteError) as reused:
        await practice.client.request(
            "forms.save", {**params, "submit": False}, session=session, idempotency_key="k-1"
        )
    assert reused.value.code == "invalid_params"


async def test_a_new_version_leaves_given_forms_alone(practice: RunningPractice) -> None:
    first = assign_form(practice.settings, PATIENT, CHECKUP)
    changed = CHECKUP.replace("title: Check-up questions", "title: Check-up, version two")
    second = assign_form(practice.settings, PATIENT, changed)
    versions = practice.query(
        "SELECT a.id, f.version FROM portal_form_assignments a"
        " JOIN portal_forms f ON f.id = a.form_id ORDER BY a.id"
    )
    assert versions == [{"id": first, "version": 1}, {"id": second, "version": 2}]
    titles = [
        (await practice.call("forms.get", PATIENT, assignment_id=a))["title"]
        for a in (first, second)
    ]
    assert titles == ["Check-up questions", "Check-up, version two"]


async def test_forms_need_a_session(practice: RunningPractice) -> None:
    assignment = assign_form(practice.settings, PATIENT, CHECKUP)
    calls: list[tuple[str, dict[str, Any]]] = [
        ("forms.list", {}),
        ("forms.get", {"assignment_id": assignment}),
        ("forms.save", {"assignment_id": assignment, "answers": {}, "submit": False}),
    ]
    for method, params in calls:
        with pytest.raises(RemoteError) as refused:
            await practice.call(method, None, **params)
        assert refused.value.code == "unauthenticated", method
    (row,) = practice.query("SELECT status FROM portal_form_assignments")
    assert row["status"] == "assigned"


async def test_two_sends_at_once_send_once(practice: RunningPractice) -> None:
    assignment = assign_form(practice.settings, PATIENT, CHECKUP)
    other = {**CHECKUP_ANSWERS, "nickname": "Second"}
    results = await asyncio.gather(
        *(
            practice.call(
                "forms.save", PATIENT, assignment_id=assignment, answers=answers, submit=True
            )
            for answers in (CHECKUP_ANSWERS, other)
        ),
        return_exceptions=True,
    )
    outcomes = sorted(
        r.code if isinstance(r, RemoteError) else r["status"] if isinstance(r, dict) else repr(r)
        for r in results
    )
    assert outcomes == ["forbidden", "submitted"]
    audit = practice.query(
        "SELECT outcome FROM portal_audit WHERE action = 'form.submit' ORDER BY outcome"
    )
    assert audit == [{"outcome": "ok"}, {"outcome": "refused"}]
