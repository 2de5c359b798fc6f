"""A form's definition, as office staff write it in YAML: the form's model.

Pure code: no database, no I/O. The YAML's shape is :class:`FormDefinition`'s shape, and a bad
file is reported the way ``agent.yaml`` is (:mod:`protocol.service.config_report`): every
problem at once, each with its dotted path and line.

The checks on a patient's answers (:func:`check_draft`, :func:`validate_answers`) are
agent/forms/answers.py.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
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


def shown_number(number: float | None) -> str:
    """A limit as the form's author wrote it: 50, not 50.0."""
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
            raise _conflict("max", f"must be at least min ({shown_number(self.min)})")
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
