"""validate_answers: what a submission must be, question type by question type, and the words
a patient reads when it is not."""

from __future__ import annotations

from typing import Any

import pytest

from agent.forms.answers import (
    BAD_CHARACTER,
    CHOOSE_FROM_LIST,
    CHOOSE_ONE,
    CHOOSE_YES_NO,
    ENTER_DATE,
    ENTER_NUMBER,
    NEEDS_ANSWER,
    NO_SUCH_DATE,
    NOT_ON_FORM,
    ONE_ANSWER,
    ONE_LINE,
    validate_answers,
)
from agent.forms.definition import FormDefinition


def form(*fields: dict[str, Any]) -> FormDefinition:
    return FormDefinition.model_validate({"key": "t", "title": "T", "fields": list(fields)})


def judge(question: dict[str, Any], value: object) -> tuple[object, str | None]:
    """(the normalised answer or None, the error or None) for one question."""
    normalised, errors = validate_answers(
        form({"name": "q", "label": "Q", **question}), {"q": value}
    )
    return normalised.get("q"), errors.get("q")


TEXT = {"type": "text", "max_length": 10}
NOTES = {"type": "multiline", "max_length": 20}
DATE = {"type": "date"}
YES_NO = {"type": "yes_no"}
ONE = {"type": "single_choice", "choices": ["red", {"value": "gr", "label": "Green"}]}
MANY = {"type": "multiple_choice", "choices": ["a", "b", "c"]}
NUMBER = {"type": "number", "min": 0, "max": 120}


@pytest.mark.parametrize(
    ("question", "value", "expected"),
    [
        (TEXT, "  Ann  ", "Ann"),
        (NOTES, "line one\r\nline two", "line one\nline two"),
        (NOTES, "a\tb\nc", "a\tb\nc"),
        (TEXT, "\u0645\u06cc\u200c\u062e", "\u0645\u06cc\u200c\u062e"),  # Persian ZWNJ
        (NOTES, "\U0001f469\u200d\U0001f467", "\U0001f469\u200d\U0001f467"),  # emoji ZWJ
        (DATE, " 2026-02-28 ", "2026-02-28"),
        (DATE, "2024-02-29", "2024-02-29"),
        (YES_NO, "Yes", "yes"),
        (YES_NO, " no", "no"),
        (ONE, "gr", "gr"),
        (MANY, ["c", "a", "c", " "], ["a", "c"]),
        (NUMBER, "72", "72"),
        (NUMBER, "+72.50", "72.50"),
        (NUMBER, ".5", ".5"),
        (NUMBER, "120", "120"),
        (NUMBER, "0", "0"),
    ],
)
def test_good_answers_are_normalised(
    question: dict[str, Any], value: object, expected: object
) -> None:
    assert judge(question, value) == (expected, None)


@pytest.mark.parametrize(
    ("question", "value", "message"),
    [
        (TEXT, "two\nlines", ONE_LINE),
        (TEXT, "bell\x07", BAD_CHARACTER),
        (NOTES, "nul\x00", BAD_CHARACTER),
        (NOTES, "del\x7f", BAD_CHARACTER),
        (TEXT, "csi\x9b2J", BAD_CHARACTER),  # C1: one character that clears a terminal
        (NOTES, "a\n\x1b]0;title\x07b", BAD_CHARACTER),
        (TEXT, "gnp.exe\u202e", BAD_CHARACTER),  # right-to-left override
        (NOTES, "x\u2066y\u2069", BAD_CHARACTER),  # bidi isolates
        (TEXT, "zero\u200bwidth", BAD_CHARACTER),
        (TEXT, "\ufeffbom", BAD_CHARACTER),
        (TEXT, "tag\U000e0041", BAD_CHARACTER),
        (DATE, "23/11/2026", ENTER_DATE),
        (DATE, "2026-11-23T10:00", ENTER_DATE),
        (DATE, "2026-2-3", ENTER_DATE),
        (DATE, "\uff12\uff10\uff12\uff16-\uff11\uff11-\uff12\uff13", ENTER_DATE),  # fullwidth
        (DATE, "2026-02-30", NO_SUCH_DATE),
        (DATE, "2025-02-29", NO_SUCH_DATE),
        (DATE, "2026-13-01", NO_SUCH_DATE),
        (YES_NO, "y", CHOOSE_YES_NO),
        (YES_NO, "true", CHOOSE_YES_NO),
        (ONE, "Green", CHOOSE_ONE),
        (ONE, "RED", CHOOSE_ONE),
        (MANY, ["a", "d"], CHOOSE_FROM_LIST),
        (MANY, "a", CHOOSE_FROM_LIST),
        (NUMBER, "1e2", ENTER_NUMBER),
        (NUMBER, "NaN", ENTER_NUMBER),
        (NUMBER, "1,000", ENTER_NUMBER),
        (NUMBER, "seventy", ENTER_NUMBER),
        (NUMBER, "\u0667\u0662", ENTER_NUMBER),  # Arabic-Indic 72
        (NUMBER, "1" * 41, ENTER_NUMBER),
        (NUMBER, "-0.01", "Enter a number from 0 to 120"),
        (NUMBER, "120.5", "Enter a number from 0 to 120"),
        (TEXT, ["a list"], ONE_ANSWER),
        (DATE, ["2026-11-23"], ONE_ANSWER),
    ],
)
def test_wrong_answers_say_what_to_do(
    question: dict[str, Any], value: object, message: str
) -> None:
    assert judge(question, value) == (None, message)


def test_too_long_text_says_the_limit_and_the_length() -> None:
    assert judge(TEXT, "x" * 11) == (
        None,
        "Please shorten this answer to 10 characters or fewer (it has 11)",
    )


def test_length_is_counted_after_trimming() -> None:
    assert judge(TEXT, "  " + "x" * 10 + "  ") == ("x" * 10, None)


@pytest.mark.parametrize(
    ("limits", "message"),
    [
        ({"min": 18}, "Enter a number of 18 or more"),
        ({"max": 7.5}, "Enter a number of 7.5 or less"),
    ],
)
def test_one_sided_number_limits(limits: dict[str, Any], message: str) -> None:
    question = {"type": "number", **limits}
    assert judge(question, "100" if "max" in limits else "3") == (None, message)


@pytest.mark.parametrize("empty", [None, "", "   ", []])
def test_required_question_without_an_answer_needs_one(empty: object) -> None:
    question = {**(MANY if isinstance(empty, list) else TEXT), "required": True}
    assert judge(question, empty) == (None, NEEDS_ANSWER)


@pytest.mark.parametrize("question", [TEXT, NOTES, DATE, YES_NO, ONE, MANY, NUMBER])
def test_optional_question_may_stay_empty_and_is_left_out(question: dict[str, Any]) -> None:
    empty: object = [] if question is MANY else " "
    normalised, errors = validate_answers(
        form({"name": "q", "label": "Q", **question}), {"q": empty}
    )
    assert (normalised, errors) == ({}, {})


def test_a_question_that_is_not_asked_at_all_counts_as_empty() -> None:
    definition = form({"name": "q", "label": "Q", "type": "text", "required": True})
    assert validate_answers(definition, {}) == ({}, {"q": NEEDS_ANSWER})


def test_unknown_names_are_refused_after_the_form_s_own_questions() -> None:
    definition = form(
        {"name": "b", "label": "B", "type": "date", "required": True},
        {"name": "a", "label": "A", "type": "text"},
    )
    _, errors = validate_answers(definition, {"zz": "x", "a": "ok", "extra": "x"})
    assert list(errors.items()) == [
        ("b", NEEDS_ANSWER),
        ("extra", NOT_ON_FORM),
        ("zz", NOT_ON_FORM),
    ]


def test_errors_follow_the_form_s_order_not_the_answers() -> None:
    definition = form(
        {"name": "second_in_alphabet", "label": "S", "type": "yes_no"},
        {"name": "a_first", "label": "A", "type": "number"},
    )
    _, errors = validate_answers(definition, {"a_first": "x", "second_in_alphabet": "x"})
    assert list(errors) == ["second_in_alphabet", "a_first"]


def test_no_message_contains_the_separator_the_link_joins_with() -> None:
    definition = form(
        {"name": "t", "label": "T", "type": "text", "max_length": 1},
        {"name": "d", "label": "D", "type": "date"},
        {"name": "n", "label": "N", "type": "number", "min": 1, "max": 2},
    )
    _, errors = validate_answers(definition, {"t": "xx", "d": "2026-02-30", "n": "5", "u": ""})
    assert len(errors) == 4
    assert not any(";" in message for message in errors.values())
