"""Patient A, signed in, goes after patient B's forms with every forms method.

A session acts only on its own patient (docs/protocol.md section 12): B's assignment ids and
ids that do not exist get the identical not_found answer; ill-typed params are invalid_params
naming the field without echoing what was sent; nothing A sends reads or changes B's rows.
"""

from __future__ import annotations

from typing import Any

import pytest

from agent.forms.answers import BAD_CHARACTER
from protocol.aio import RemoteError
from tests.agent.forms.seeding import CHECKUP, CHECKUP_ANSWERS, assign_form
from tests.support.practice import RunningPractice

A, B = 1, 2
MARKER = "'; DROP TABLE portal_forms; --"
SHAPE = "must be text, or a list of texts for a multiple-choice question"
BAD_IDS: list[Any] = [-1, 0, 2**31, 2**63, "1", MARKER, [1], {"id": 1}, 1.0, True, None]


def b_rows(practice: RunningPractice) -> list[dict[str, Any]]:
    return practice.query("SELECT * FROM portal_form_assignments WHERE patient_id = %s", (B,))


async def refusal(practice: RunningPractice, method: str, **params: Any) -> RemoteError:
    with pytest.raises(RemoteError) as refused:
        await practice.call(method, A, **params)
    return refused.value


def save(assignment_id: Any, answers: Any = None, submit: Any = False) -> dict[str, Any]:
    return {"assignment_id": assignment_id, "answers": answers or {}, "submit": submit}


@pytest.fixture
def b_form(practice: RunningPractice) -> int:
    assign_form(practice.settings, A, CHECKUP)  # A has a form too: ids are not the issue
    return assign_form(practice.settings, B, CHECKUP)


async def test_another_patient_s_form_is_not_found_like_a_missing_one(
    practice: RunningPractice, b_form: int
) -> None:
    calls = [
        ("forms.get", {"assignment_id": b_form}, {"assignment_id": 999_999}),
        ("forms.save", save(b_form, {"notes": "x"}), save(999_999, {"notes": "x"})),
        ("forms.save", save(b_form, CHECKUP_ANSWERS, True), save(999_999, CHECKUP_ANSWERS, True)),
    ]
    before = b_rows(practice)
    for method, theirs, missing in calls:
        first = await refusal(practice, method, **theirs)
        second = await refusal(practice, method, **missing)
        assert (first.code, first.message, first.details) == (
            second.code,
            second.message,
            second.details,
        )
        assert (first.code, first.message) == ("not_found", "That form was not found.")
    assert b_rows(practice) == before


async def test_another_patient_s_form_is_not_listed(practice: RunningPractice, b_form: int) -> None:
    listed = (await practice.call("forms.list", A))["forms"]
    assert b_form not in [f["assignment_id"] for f in listed]
    assert len(listed) == 1


async def test_a_sent_form_of_another_patient_is_still_not_found(
    practice: RunningPractice, b_form: int
) -> None:
    await practice.call("forms.save", B, **save(b_form, CHECKUP_ANSWERS, True))
    refused = await refusal(practice, "forms.save", **save(b_form, {"notes": "x"}))
    assert refused.code == "not_found"  # not "forbidden": that would say the id exists


@pytest.mark.parametrize("bad", BAD_IDS, ids=repr)
async def test_ill_typed_assignment_ids_are_invalid_params(
    practice: RunningPractice, b_form: int, bad: Any
) -> None:
    for method, params in [
        ("forms.get", {"assignment_id": bad}),
        ("forms.save", save(bad)),
    ]:
        refused = await refusal(practice, method, **params)
        assert refused.code == "invalid_params"
        assert refused.message.startswith("assignment_id: ")
        assert MARKER not in refused.message


@pytest.mark.parametrize(
    ("params", "field"),
    [
        (save(1, submit="true"), "submit: "),
        (save(1, submit=1), "submit: "),
        ({"assignment_id": 1, "answers": {}}, "submit: required"),
        ({"assignment_id": 1, "submit": True}, "answers: required"),
        ({**save(1), "patient_id": B}, "patient_id: unknown parameter"),
        (save(1, answers=[["notes", "x"]]), "answers: "),
        (save(1, answers="notes=x"), "answers: "),
    ],
)
async def test_ill_typed_save_params_name_the_field(
    practice: RunningPractice, b_form: int, params: dict[str, Any], field: str
) -> None:
    refused = await refusal(practice, "forms.save", **params)
    assert refused.code == "invalid_params"
    assert field in refused.message


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ({"notes": 7}, "answers.notes: " + SHAPE),
        ({"notes": None}, "answers.notes: " + SHAPE),
        ({"symptoms": ["cough", 1]}, "answers.symptoms: " + SHAPE),
        ({"symptoms": [["cough"]]}, "answers.symptoms: " + SHAPE),
        ({"notes": {"x": "y"}}, "answers.notes: " + SHAPE),
        ({"notes": "x" * 10_001}, "answers.notes: must be at most 10000 characters"),
        ({"symptoms": ["cough"] * 51}, "answers.symptoms: must list at most 50 choices"),
        ({f"q{i}": "" for i in range(201)}, "answers: at most 200 answers"),
        ({MARKER: "x"}, "answers: each answer's name must be a question's name from the form"),
        ({"Notes": "x"}, "answers: each answer's name must be a question's name from the form"),
        ({"n" * 65: "x"}, "answers: each answer's name must be a question's name from the form"),
    ],
)
async def test_ill_shaped_answers_are_refused_before_the_form_is_read(
    practice: RunningPractice, answers: dict[str, Any], message: str
) -> None:
    own = assign_form(practice.settings, A, CHECKUP)
    refused = await refusal(practice, "forms.save", **save(own, answers))
    assert (refused.code, refused.message) == ("invalid_params", message)


@pytest.mark.parametrize("submit", [False, True], ids=["draft", "submit"])
async def test_names_not_on_the_form_are_refused(practice: RunningPractice, submit: bool) -> None:
    own = assign_form(practice.settings, A, CHECKUP)
    answers = {**CHECKUP_ANSWERS, "patient_id": "2"}
    refused = await refusal(practice, "forms.save", **save(own, answers, submit))
    assert (refused.code, refused.message) == (
        "invalid_params",
        "answers.patient_id: This question is not on this form",
    )


async def test_a_draft_bigger_than_its_question_is_refused(practice: RunningPractice) -> None:
    own = assign_form(practice.settings, A, CHECKUP)
    refused = await refusal(practice, "forms.save", **save(own, {"nickname": "x" * 41}))
    assert refused.message == (
        "answers.nickname: Please shorten this answer to 40 characters or fewer (it has 41)"
    )
    (row,) = practice.query("SELECT answers FROM portal_form_assignments WHERE id = %s", (own,))
    assert row["answers"] is None


async def test_sql_in_answers_is_stored_as_text(practice: RunningPractice) -> None:
    own = assign_form(practice.settings, A, CHECKUP)
    answers = {**CHECKUP_ANSWERS, "notes": MARKER, "nickname": "<script>alert(1)</script>"}
    await practice.call("forms.save", A, **save(own, answers, True))
    form = await practice.call("forms.get", A, assignment_id=own)
    assert form["answers"]["notes"] == MARKER
    assert form["answers"]["nickname"] == "<script>alert(1)</script>"
    assert practice.query("SELECT COUNT(*) AS n FROM portal_forms") == [{"n": 1}]


async def test_terminal_controls_stay_in_a_draft_but_cannot_be_sent(
    practice: RunningPractice,
) -> None:
    own = assign_form(practice.settings, A, CHECKUP)
    hostile = {**CHECKUP_ANSWERS, "nickname": "Pat\u202e", "notes": "ok\x9b2J\x1b]0;x\x07"}
    await practice.call("forms.save", A, **save(own, hostile))

    refused = await refusal(practice, "forms.save", **save(own, hostile, True))

    assert (refused.code, refused.message) == (
        "invalid_params",
        f"answers.nickname: {BAD_CHARACTER}; answers.notes: {BAD_CHARACTER}",
    )
    form = await practice.call("forms.get", A, assignment_id=own)
    assert (form["status"], form["answers"]) == ("draft", hostile)
