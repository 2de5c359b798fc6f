"""check_draft: a draft is kept as typed, only bounded; and properties of both checks over
generated answers (hypothesis)."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.forms.answers import (
    CHOOSE_FROM_LIST,
    NOT_ON_FORM,
    ONE_ANSWER,
    check_draft,
    validate_answers,
)
from agent.forms.definition import FormDefinition

DEFINITION = FormDefinition.model_validate(
    {
        "key": "t",
        "title": "T",
        "fields": [
            {"name": "name", "label": "Name", "type": "text", "required": True, "max_length": 5},
            {"name": "born", "label": "Born", "type": "date", "required": True},
            {"name": "ok", "label": "OK?", "type": "yes_no"},
            {"name": "pick", "label": "Pick", "type": "single_choice", "choices": ["x", "y"]},
            {"name": "many", "label": "Many", "type": "multiple_choice", "choices": ["a", "b"]},
            {"name": "count", "label": "Count", "type": "number", "min": 0, "max": 9},
            {"name": "notes", "label": "Notes", "type": "multiline"},
        ],
    }
)


def test_draft_with_wrong_and_missing_answers_is_fine() -> None:
    answers = {"born": "someday", "ok": "maybe", "pick": "z", "count": "lots", "many": ["c"]}
    assert check_draft(DEFINITION, answers) == {}


def test_draft_refuses_questions_not_on_the_form() -> None:
    assert check_draft(DEFINITION, {"name": "Ann", "nickname": "A"}) == {"nickname": NOT_ON_FORM}


def test_draft_refuses_the_wrong_shape() -> None:
    assert check_draft(DEFINITION, {"name": ["Ann"], "many": "a"}) == {
        "name": ONE_ANSWER,
        "many": CHOOSE_FROM_LIST,
    }


def test_draft_text_is_bounded_by_the_question_s_length() -> None:
    assert check_draft(DEFINITION, {"name": " " + "x" * 5 + " "}) == {}
    assert check_draft(DEFINITION, {"name": "x" * 6}) == {
        "name": "Please shorten this answer to 5 characters or fewer (it has 6)"
    }


def test_draft_short_answers_are_bounded_too() -> None:
    errors = check_draft(DEFINITION, {"born": "1" * 201, "count": "1" * 200})
    assert list(errors) == ["born"]


def test_draft_keeps_control_and_format_characters_for_the_patient_to_fix() -> None:
    # Only sending refuses them (validate_answers); a draft never loses what was typed.
    assert check_draft(DEFINITION, {"name": "\u202eAnn", "notes": "a\x9b2Jb\x1b"}) == {}


def test_draft_choice_lists_are_bounded_by_the_number_of_choices() -> None:
    assert check_draft(DEFINITION, {"many": ["a", "b"]}) == {}
    assert check_draft(DEFINITION, {"many": ["a", "a", "a"]}) == {"many": CHOOSE_FROM_LIST}


# --- properties -------------------------------------------------------------------------------

# Generation is cheap but the first draw of unicode text is not; nothing here is timed.
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

answer_values = st.one_of(
    st.none(),
    st.text(max_size=30),
    st.lists(st.text(max_size=5), max_size=4),
    st.integers(),
)
answer_maps = st.dictionaries(
    st.sampled_from([f.name for f in DEFINITION.fields] + ["stranger"]), answer_values
)


@SETTINGS
@given(answer_maps)
def test_every_error_names_a_sent_or_required_question(answers: dict[str, Any]) -> None:
    _, errors = validate_answers(DEFINITION, answers)
    required = {f.name for f in DEFINITION.fields if f.required}
    assert set(errors) <= set(answers) | required
    assert all(message and ";" not in message for message in errors.values())


@SETTINGS
@given(answer_maps)
def test_accepted_answers_are_accepted_again_unchanged(answers: dict[str, Any]) -> None:
    normalised, errors = validate_answers(DEFINITION, answers)
    if not errors:
        assert validate_answers(DEFINITION, normalised) == (normalised, {})


@SETTINGS
@given(answer_maps)
def test_normalised_answers_are_strings_or_lists_of_choices(answers: dict[str, Any]) -> None:
    normalised, _ = validate_answers(DEFINITION, answers)
    for name, value in normalised.items():
        if name == "many":
            assert isinstance(value, list) and set(value) <= {"a", "b"} and value
        else:
            assert isinstance(value, str) and value == value.strip() and value


@SETTINGS
@given(st.dates())
def test_any_real_date_is_accepted_as_written(day: Any) -> None:
    normalised, errors = validate_answers(DEFINITION, {"name": "Ann", "born": day.isoformat()})
    assert errors == {}
    assert normalised["born"] == day.isoformat()


@SETTINGS
@given(st.decimals(min_value=0, max_value=9, places=3, allow_nan=False))
def test_any_decimal_in_range_is_accepted(number: Any) -> None:
    normalised, errors = validate_answers(
        DEFINITION, {"name": "Ann", "born": "1950-01-01", "count": str(number)}
    )
    assert errors == {}
    assert normalised["count"] == str(number)
