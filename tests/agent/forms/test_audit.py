"""Every forms call a patient makes writes one audit row: action, outcome, ids, never answers."""

from __future__ import annotations

from typing import Any

import pytest

from protocol.aio import RemoteError
from tests.agent.forms.seeding import CHECKUP, CHECKUP_ANSWERS, assign_form
from tests.support.practice import RunningPractice

A, B = 1, 2
CANARY = "CANARY-ANSWER-7f3e"


def audit_rows(practice: RunningPractice) -> list[tuple[Any, ...]]:
    rows = practice.query(
        "SELECT actor, patient_id, action, outcome, detail FROM portal_audit"
        " WHERE action LIKE 'form.%%' AND actor LIKE 'patient:%%' ORDER BY id"
    )
    return [tuple(row.values()) for row in rows]


async def attempt(practice: RunningPractice, method: str, **params: Any) -> str:
    try:
        await practice.call(method, A, **params)
    except RemoteError as refused:
        return refused.code
    return "ok"


async def test_each_call_is_audited_with_its_outcome(practice: RunningPractice) -> None:
    own = assign_form(practice.settings, A, CHECKUP)
    theirs = assign_form(practice.settings, B, CHECKUP)
    draft = {"assignment_id": own, "answers": {"notes": CANARY}, "submit": False}
    wrong = {"assignment_id": own, "answers": {"born": CANARY}, "submit": True}
    send = {"assignment_id": own, "answers": {**CHECKUP_ANSWERS, "notes": CANARY}, "submit": True}
    outcomes = [
        await attempt(practice, "forms.list"),
        await attempt(practice, "forms.get", assignment_id=own),
        await attempt(practice, "forms.get", assignment_id=theirs),
        await attempt(practice, "forms.save", **draft),
        await attempt(practice, "forms.save", **{**draft, "answers": {"x": CANARY}}),
        await attempt(practice, "forms.save", **wrong),
        await attempt(practice, "forms.save", **send),
        await attempt(practice, "forms.save", **send),
        await attempt(practice, "forms.save", **{**draft, "assignment_id": theirs}),
    ]
    assert outcomes == [
        "ok",
        "ok",
        "not_found",
        "ok",
        "invalid_params",
        "invalid_params",
        "ok",
        "forbidden",
        "not_found",
    ]
    me, mine, other = f"patient:{A}", f"assignment:{own}", f"assignment:{theirs}"
    assert audit_rows(practice) == [
        (me, A, "form.list", "ok", None),
        (me, A, "form.read", "ok", mine),
        (me, A, "form.read", "not_found", other),
        (me, A, "form.save_draft", "ok", mine),
        (me, A, "form.save_draft", "invalid", mine),
        (me, A, "form.submit", "invalid", mine),
        (me, A, "form.submit", "ok", mine),
        (me, A, "form.submit", "refused", mine),
        (me, A, "form.save_draft", "not_found", other),
    ]


async def test_no_answer_reaches_the_audit_trail(practice: RunningPractice) -> None:
    own = assign_form(practice.settings, A, CHECKUP)
    answers = {**CHECKUP_ANSWERS, "notes": CANARY, "nickname": CANARY}
    await practice.call("forms.save", A, assignment_id=own, answers=answers, submit=False)
    await practice.call("forms.save", A, assignment_id=own, answers=answers, submit=True)
    await practice.call("forms.get", A, assignment_id=own)
    text = str(practice.query("SELECT * FROM portal_audit"))
    assert CANARY not in text
    assert "form.submit" in text


@pytest.mark.parametrize(
    ("method", "params"),
    [
        ("forms.list", {}),
        ("forms.get", {"assignment_id": 1}),
        ("forms.save", {"assignment_id": 1, "answers": {}, "submit": False}),
    ],
)
async def test_calls_without_a_session_write_no_form_rows(
    practice: RunningPractice, method: str, params: dict[str, Any]
) -> None:
    assign_form(practice.settings, A, CHECKUP)
    with pytest.raises(RemoteError):
        await practice.call(method, None, **params)
    assert audit_rows(practice) == []
