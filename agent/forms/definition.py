"""A form's definition, as office staff write it in YAML, and the checks on a patient's answers.

Pure code: no database, no I/O. The YAML's shape is :class:`FormDefinition`'s shape, and a bad
file is reported the way ``agent.yaml`` is (:mod:`protocol.service.config_report`): every problem at
once, each with its dotted path and line.

Answers travel as the strings the patient typed (docs/protocol.md section 12): one string per
question, or a list of strings for a multiple-choice one. :func:`check_draft` bounds a draft
without judging it; :func:`validate_answers` judges a submission and says what to fix in words
meant for a patient who may be eighty and unused to computers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    model_validator,
)
from pydantic_core import PydanticCustomError

from agent.config_report import ConfigInvalid as ConfigInvalid
from agent.terminal import has_hidden
from protocol.service.config_report import YAML_LINES, parse_yaml_model

FieldType = Literal[
    "text", "multiline", "date", "yes_no", "single_choice", "multiple_choice", "number"
]
CHOICE_TYPES = frozenset({"single_choice", "multiple_choice"})
# max_length when the YAML gives none: a line of text, or a few paragraphs.
DEFAULT_MAX_LENGTH = {"text": 200, "multiline": 5000}
# The link carries at most 200 answers, each at most 10,000 characters or 50 strings
# (docs/protocol.md), so a definition may not ask for more than that.
MAX_FIELDS = 200
MAX_CHOICES = 50
MAX_ANSWER_CHARS = 10_000
# A date, number, yes/no or choice is short; a draft of one is bounded by this.
SHORT_ANSWER_CHARS = 200
NUMBER_LIMIT = 10**15

EXAMPLE = "config/forms/new-patient-intake.yaml"
SECTIONS = "key:, title:, description:, fields:"

Answer = str | list[str]

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
        return f"Enter a number from {_shown(low)} to {_shown(high)}"
    if low is not None:
        return f"Enter a number of {_shown(low)} or more"
    return f"Enter a number of {_shown(high)} or less"


def _shown(number: float | None) -> str:
    if isinstance(number, float) and number.is_integer():
        return str(int(number))
    return str(number)


# --- the YAML model ------------------------------------------------------------------------------


def _conflict(field: str, message: str) -> PydanticCustomError:
    """A cross-field error blamed on ``field`` (config_report adds it to the path)."""
    return PydanticCustomError("conflict", message, {"field": field})


def _yaml_text(value: object) -> object:
    # YAML 1.1 reads an unquoted yes/no/on/off as a boolean and 1.50 as a number; for a label
    # or a choice that is never what the author meant, so say how to keep the words.
    if isinstance(value, bool):
        raise ValueError(
            "YAML reads an unquoted yes, no, on, off, true or false as true/false; "
            'put this text in quotes, like "Yes"'
        )
    if isinstance(value, int | float):
        raise ValueError(f'YAML reads this as a number; put it in quotes, like "{value}"')
    return value


def _field_name(value: str) -> str:
    if not re.fullmatch(r"[a-z][a-z0-9_]*", value):
        raise ValueError(
            f'"{value}" is not a usable name: start with a letter and use only lower-case '
            "letters a-z, digits and _ (like date_of_birth)"
        )
    return value


def _form_key(value: str) -> str:
    if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", value):
        raise ValueError(
            f'"{value}" is not a usable key: use lower-case letters a-z, digits and single '
            "hyphens (like new-patient-intake)"
        )
    return value


def _words(max_length: int) -> StringConstraints:
    return StringConstraints(strip_whitespace=True, min_length=1, max_length=max_length)


ChoiceValue = Annotated[str, BeforeValidator(_yaml_text), _words(SHORT_ANSWER_CHARS)]
Label = Annotated[str, BeforeValidator(_yaml_text), _words(500)]
HelpText = Annotated[str, BeforeValidator(_yaml_text), _words(1000)]
Title = Annotated[str, BeforeValidator(_yaml_text), _words(200)]
Description = Annotated[str, BeforeValidator(_yaml_text), _words(2000)]


def _number_setting(value: object) -> object:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a number, like 0 or 37.5")
    return value


Limit = Annotated[
    float,
    BeforeValidator(_number_setting),
    Field(ge=-NUMBER_LIMIT, le=NUMBER_LIMIT, allow_inf_nan=False),
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Choice(_Model):
    """One option of a choice question. In YAML either plain text (the value is also the
    label) or ``{value, label}`` (the value is what the export shows)."""

    value: ChoiceValue
    label: Label

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, data: Any) -> Any:
        if isinstance(data, str):
            return {"value": data, "label": data}
        if isinstance(data, bool | int | float):
            _yaml_text(data)
        if isinstance(data, dict) and "label" not in data and "value" in data:
            return {**data, "label": data["value"]}
        return data


class FormField(_Model):
    """One question."""

    name: Annotated[str, Field(max_length=64), AfterValidator(_field_name)]
    label: Label
    type: FieldType
    required: bool = False
    help: HelpText | None = None
    choices: Annotated[list[Choice], Field(min_length=2, max_length=MAX_CHOICES)] | None = None
    min: Limit | None = None
    max: Limit | None = None
    max_length: Annotated[int, Field(ge=1, le=MAX_ANSWER_CHARS)] | None = None

    @model_validator(mode="before")
    @classmethod
    def _default_max_length(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("max_length") is None:
            kind = data.get("type")
            if isinstance(kind, str) and kind in DEFAULT_MAX_LENGTH:
                return {**data, "max_length": DEFAULT_MAX_LENGTH[kind]}
        return data

    @model_validator(mode="after")
    def _settings_fit_the_type(self) -> Self:
        kind = self.type
        if kind in CHOICE_TYPES and self.choices is None:
            raise _conflict("choices", f"required for a {kind} question; list its options")
        if kind not in CHOICE_TYPES and self.choices is not None:
            raise _conflict("choices", "only single_choice and multiple_choice have choices")
        for setting in ("min", "max"):
            if kind != "number" and getattr(self, setting) is not None:
                raise _conflict(setting, "only a number question has min and max")
        if kind not in DEFAULT_MAX_LENGTH and self.max_length is not None:
            raise _conflict("max_length", "only text and multiline questions have max_length")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise _conflict("max", f"must be at least min ({_shown(self.min)})")
        self._check_unique_choices()
        return self

    def _check_unique_choices(self) -> None:
        seen: dict[str, int] = {}
        for index, choice in enumerate(self.choices or ()):
            if choice.value in seen:
                raise _conflict(
                    "choices",
                    f'choice {index + 1} has the value "{choice.value}" of choice '
                    f"{seen[choice.value] + 1}; each choice needs its own value",
                )
            seen[choice.value] = index

    def choice_values(self) -> list[str]:
        return [choice.value for choice in self.choices or ()]

    def for_patient(self) -> dict[str, Any]:
        """The question as forms.get sends it (docs/protocol.md section 12)."""
        shown: dict[str, Any] = {
            "name": self.name,
            "label": self.label,
            "type": self.type,
            "required": self.required,
            "help": self.help,
        }
        if self.choices is not None:
            shown["choices"] = [{"value": c.value, "label": c.label} for c in self.choices]
        for setting in ("min", "max"):
            limit = getattr(self, setting)
            if limit is not None:
                # 50, not 50.0: the limits are read as decimals but usually written whole.
                shown[setting] = int(limit) if limit.is_integer() else limit
        if self.max_length is not None:
            shown["max_length"] = self.max_length
        return shown


class FormDefinition(_Model):
    """A whole form file (config/forms/*.yaml)."""

    key: Annotated[str, Field(max_length=64), AfterValidator(_form_key)]
    title: Title
    description: Description | None = None
    fields: Annotated[list[FormField], Field(min_length=1, max_length=MAX_FIELDS)]

    @model_validator(mode="after")
    def _names_unique(self, info: ValidationInfo) -> Self:
        lines: Mapping[str, int] = (info.context or {}).get(YAML_LINES, {})
        first: dict[str, int] = {}
        for index, field in enumerate(self.fields):
            if field.name in first:
                earlier = first[field.name]
                line = lines.get(f"fields.{earlier}.name")
                where = f" (line {line})" if line else ""
                raise _conflict(
                    f"fields.{index}.name",
                    f'"{field.name}" is already the name of question {earlier + 1}{where}; '
                    "each question needs its own name",
                )
            first[field.name] = index
        return self

    def field(self, name: str) -> FormField | None:
        return next((f for f in self.fields if f.name == name), None)

    def to_json(self) -> str:
        return json.dumps(self.model_dump(mode="json"), ensure_ascii=False, sort_keys=True)


def parse_definition(raw: bytes | str) -> FormDefinition:
    """Validate a form file's content. Raises :class:`ConfigInvalid` listing every problem
    (YAML syntax included), sorted by line."""
    return parse_yaml_model(raw, FormDefinition, example=EXAMPLE, sections=SECTIONS)


def definition_from_json(text: str) -> FormDefinition:
    """A definition as stored in portal_forms.definition (written by :meth:`to_json`)."""
    return FormDefinition.model_validate(json.loads(text))


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
