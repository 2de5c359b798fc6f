"""The checks on a patient's answers to a form (agent/forms/definition.py), and their wording.

Pure code: no database, no I/O. Answers travel as the strings the patient typed
(docs/protocol.md section 12): one string per question, or a list of strings for a
multiple-choice one. :func:`check_draft` bounds a draft without judging it;
:func:`validate_answers` judges a submission and says what to fix in words meant for a patient
who may be eighty and unused to computers.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date
from decimal import Decimal, InvalidOperation

from agent.forms.definition import (
    DEFAULT_MAX_LENGTH,
    SHORT_ANSWER_CHARS,
    Answer,
    FormDefinition,
    FormField,
    shown_number,
)
from agent.terminal import has_hidden

# --- what a patient reads next to a question (no ";": the link joins problems with "; ") ------

NEEDS_ANSWER = "This question needs an answer"
# The portal asks for a date as month, day and year boxes, not as the YYYY-MM-DD it sends.
ENTER_DATE = "Enter the whole date: month, day and a four-digit year"
NO_SUCH_DATE = "That date does not exist - check the month, day and year"
CHOOSE_YES_NO = "Choose yes or no"
CHOOSE_ONE = "Choose one of the options"
CHOOSE_FROM_LIST = "Choose from the options shown"
ENTER_NUMBER = "Enter a number, like 72 or 72.5"
ONE_LINE = "Please write this answer on one line"
BAD_CHARACTER = "This answer has a character that cannot be saved - please type it again"
NOT_ON_FORM = "This question is not on this form"
ONE_ANSWER = "Give just one answer here"


def too_long(limit: int, length: int) -> str:
    return f"Please shorten this answer to {limit} characters or fewer (it has {length})"


def number_range(low: float | None, high: float | None) -> str:
    if low is not None and high is not None:
        return f"Enter a number from {shown_number(low)} to {shown_number(high)}"
    if low is not None:
        return f"Enter a number of {shown_number(low)} or more"
    return f"Enter a number of {shown_number(high)} or less"


# --- answers -------------------------------------------------------------------------------------


class _Wrong(Exception):
    """An answer that cannot be accepted; the message is for the patient."""


def check_draft(definition: FormDefinition, answers: Mapping[str, object]) -> dict[str, str]:
    """What makes a draft unstorable: a question not on the form, the wrong shape (a list for a
    one-answer question or the reverse) or an answer too big for its question. Nothing else is
    judged: a draft is kept as typed until the patient sends it."""
    errors = _unknown_names(definition, answers)
    for field in definition.fields:
        if field.name not in answers:
            continue
        try:
            _check_draft_answer(field, answers[field.name])
        except _Wrong as wrong:
            errors[field.name] = str(wrong)
    return _in_form_order(definition, errors)


def _check_draft_answer(field: FormField, value: object) -> None:
    limit = field.max_length or SHORT_ANSWER_CHARS
    if field.type == "multiple_choice":
        items = _string_list(value)
        if len(items) > len(field.choice_values()):
            raise _Wrong(CHOOSE_FROM_LIST)
        if any(len(item.strip()) > SHORT_ANSWER_CHARS for item in items):
            raise _Wrong(CHOOSE_FROM_LIST)
        return
    text = _one_string(value).strip()
    if len(text) > limit:
        raise _Wrong(too_long(limit, len(text)))


def validate_answers(
    definition: FormDefinition, answers: Mapping[str, object]
) -> tuple[dict[str, Answer], dict[str, str]]:
    """Judge a submission: ``(normalised, errors)``.

    ``normalised`` holds each answered question's cleaned answer (trimmed text, ``yes``/``no``,
    a date as ``YYYY-MM-DD``, chosen values in the form's order); unanswered optional questions
    are left out. ``errors`` maps each wrong question's name (in form order, then names not on
    the form) to what the patient should do about it. The answers are accepted only when
    ``errors`` is empty."""
    errors = _unknown_names(definition, answers)
    normalised: dict[str, Answer] = {}
    for field in definition.fields:
        try:
            clean = _ANSWER_CHECKS[field.type](field, answers.get(field.name))
        except _Wrong as wrong:
            errors[field.name] = str(wrong)
            continue
        if clean is not None:
            normalised[field.name] = clean
        elif field.required:
            errors[field.name] = NEEDS_ANSWER
    return normalised, _in_form_order(definition, errors)


def _unknown_names(definition: FormDefinition, answers: Mapping[str, object]) -> dict[str, str]:
    known = {field.name for field in definition.fields}
    return {name: NOT_ON_FORM for name in answers if name not in known}


def _in_form_order(definition: FormDefinition, errors: dict[str, str]) -> dict[str, str]:
    order = {field.name: index for index, field in enumerate(definition.fields)}
    return dict(sorted(errors.items(), key=lambda item: (order.get(item[0], len(order)), item[0])))


def _one_string(value: object) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _Wrong(ONE_ANSWER)
    return value


def _string_list(value: object) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _Wrong(CHOOSE_FROM_LIST)
    return value


# Control and format characters (C0, DEL, C1 such as U+009B CSI, bidirectional overrides such
# as U+202E, zero-width spaces) never come from typing an answer, only from pasting or from an
# attacker; in a staff member's terminal or spreadsheet they can rewrite or reorder what is
# shown (agent/terminal.py). A sent answer refuses them, so the export shows what the patient
# saw; line breaks (multiline: a text answer refuses them first) and tabs are typed, so kept.
_TYPED_CONTROLS = "\n\t"


def _text_answer(field: FormField, value: object) -> str | None:
    text = _one_string(value).strip()
    if "\n" in text or "\r" in text:
        raise _Wrong(ONE_LINE)
    return _bounded_text(field, text)


def _multiline_answer(field: FormField, value: object) -> str | None:
    text = _one_string(value).replace("\r\n", "\n").replace("\r", "\n").strip()
    return _bounded_text(field, text)


def _bounded_text(field: FormField, text: str) -> str | None:
    if not text:
        return None
    if has_hidden(text, allowed=_TYPED_CONTROLS):
        raise _Wrong(BAD_CHARACTER)
    limit = field.max_length or DEFAULT_MAX_LENGTH["text"]
    if len(text) > limit:
        raise _Wrong(too_long(limit, len(text)))
    return text


_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _date_answer(field: FormField, value: object) -> str | None:
    text = _one_string(value).strip()
    if not text:
        return None
    if not _DATE.fullmatch(text):
        raise _Wrong(ENTER_DATE)
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise _Wrong(NO_SUCH_DATE) from None


def _yes_no_answer(field: FormField, value: object) -> str | None:
    text = _one_string(value).strip().lower()
    if not text:
        return None
    if text not in ("yes", "no"):
        raise _Wrong(CHOOSE_YES_NO)
    return text


def _single_choice_answer(field: FormField, value: object) -> str | None:
    text = _one_string(value).strip()
    if not text:
        return None
    if text not in field.choice_values():
        raise _Wrong(CHOOSE_ONE)
    return text


def _multiple_choice_answer(field: FormField, value: object) -> list[str] | None:
    chosen = {item.strip() for item in _string_list(value)} - {""}
    values = field.choice_values()
    if not chosen <= set(values):
        raise _Wrong(CHOOSE_FROM_LIST)
    # The form's order, once each: the export reads the same whatever order boxes were ticked.
    return [v for v in values if v in chosen] or None


# Plain decimal notation only: "1e3", "NaN" and "1,000" are not what a patient means to type.
_NUMBER = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)")


def _number_answer(field: FormField, value: object) -> str | None:
    text = _one_string(value).strip()
    if not text:
        return None
    if len(text) > 40 or not _NUMBER.fullmatch(text):
        raise _Wrong(ENTER_NUMBER)
    try:
        number = Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid decimals
        raise _Wrong(ENTER_NUMBER) from None
    low = None if field.min is None else Decimal(str(field.min))
    high = None if field.max is None else Decimal(str(field.max))
    if (low is not None and number < low) or (high is not None and number > high):
        raise _Wrong(number_range(field.min, field.max))
    return text.removeprefix("+")


_ANSWER_CHECKS: dict[str, Callable[[FormField, object], Answer | None]] = {
    "text": _text_answer,
    "multiline": _multiline_answer,
    "date": _date_answer,
    "yes_no": _yes_no_answer,
    "single_choice": _single_choice_answer,
    "multiple_choice": _multiple_choice_answer,
    "number": _number_answer,
}
