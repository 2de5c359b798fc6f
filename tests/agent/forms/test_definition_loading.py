"""Form files: the shipped ones load, and every mistake is reported with its path and line."""

from __future__ import annotations

import textwrap
import typing

import pytest

from agent.forms.definition import (
    ConfigInvalid,
    FieldType,
    FormDefinition,
    definition_from_json,
    parse_definition,
)
from tests.agent.forms.seeding import HISTORY, INTAKE

ALL_TYPES = set(typing.get_args(FieldType))


def problems_of(yaml_text: str) -> list[str]:
    with pytest.raises(ConfigInvalid) as caught:
        parse_definition(textwrap.dedent(yaml_text))
    return [str(problem) for problem in caught.value.problems]


def form_with(field_yaml: str) -> str:
    """A valid form whose third question is `field_yaml` (indented as a list item)."""
    return (
        "key: test-form\n"
        "title: Test form\n"
        "fields:\n"
        "  - name: first\n"
        "    label: First\n"
        "    type: text\n"
        "  - name: second\n"
        "    label: Second\n"
        "    type: yes_no\n" + textwrap.indent(textwrap.dedent(field_yaml), "  ")
    )


@pytest.mark.parametrize("path", [INTAKE, HISTORY], ids=["intake", "history"])
def test_shipped_forms_load(path: typing.Any) -> None:
    definition = parse_definition(path.read_bytes())
    assert definition.key == path.stem
    assert any(question.required for question in definition.fields)


def test_shipped_forms_use_every_field_type_between_them() -> None:
    used = {
        question.type
        for path in (INTAKE, HISTORY)
        for question in parse_definition(path.read_bytes()).fields
    }
    assert used == ALL_TYPES


def test_text_questions_get_default_lengths() -> None:
    definition = parse_definition(
        form_with("""\
        - name: story
          label: Story
          type: multiline
        """)
    )
    lengths = {q.name: q.max_length for q in definition.fields}
    assert lengths == {"first": 200, "second": None, "story": 5000}


def test_plain_text_choices_are_their_own_value_and_label() -> None:
    definition = parse_definition(
        form_with("""\
        - name: colour
          label: Colour
          type: single_choice
          choices: [Red, {value: gr, label: Green}]
        """)
    )
    question = definition.field("colour")
    assert question is not None
    assert question.for_patient()["choices"] == [
        {"value": "Red", "label": "Red"},
        {"value": "gr", "label": "Green"},
    ]


def test_stored_json_reads_back_as_the_same_definition() -> None:
    definition = parse_definition(INTAKE.read_bytes())
    assert definition_from_json(definition.to_json()) == definition


def test_a_form_needs_key_title_and_fields() -> None:
    assert problems_of("description: nothing else\n") == [
        "key: required; add this setting",
        "title: required; add this setting",
        "fields: required; add this setting",
    ]


def test_bad_key_and_field_name_are_explained_with_their_lines() -> None:
    found = problems_of("""\
        key: New Intake
        title: Intake
        fields:
          - name: 2nd-question
            label: Second
            type: text
        """)
    assert found[0].startswith('key (line 1): "New Intake" is not a usable key')
    assert found[1].startswith('fields.0.name (line 4): "2nd-question" is not a usable name')


def test_duplicate_names_point_at_both_lines() -> None:
    found = problems_of(
        form_with("""\
        - name: first
          label: Again
          type: text
        """)
    )
    assert found == [
        'fields.2.name (line 10): "first" is already the name of question 1 (line 4); '
        "each question needs its own name"
    ]


def test_unknown_type_lists_the_types() -> None:
    found = problems_of(form_with("- name: q\n  label: Q\n  type: checkbox\n"))
    assert found == [
        "fields.2.type (line 12): must be 'text', 'multiline', 'date', 'yes_no', "
        "'single_choice', 'multiple_choice' or 'number' (got \"checkbox\")"
    ]


def test_misspelt_setting_is_an_unknown_key() -> None:
    found = problems_of(form_with("- name: q\n  label: Q\n  type: text\n  requried: true\n"))
    assert found == ["fields.2.requried (line 13): unknown key"]


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        (
            "- name: q\n  label: Q\n  type: single_choice\n",
            "fields.2.choices (line 10): required for a single_choice question; list its options",
        ),
        (
            "- name: q\n  label: Q\n  type: text\n  choices: [a, b]\n",
            "fields.2.choices (line 13): only single_choice and multiple_choice have choices",
        ),
        (
            "- name: q\n  label: Q\n  type: date\n  min: 1\n",
            "fields.2.min (line 13): only a number question has min and max",
        ),
        (
            "- name: q\n  label: Q\n  type: number\n  max_length: 5\n",
            "fields.2.max_length (line 13): only text and multiline questions have max_length",
        ),
        (
            "- name: q\n  label: Q\n  type: number\n  min: 10\n  max: 1\n",
            "fields.2.max (line 14): must be at least min (10)",
        ),
        (
            "- name: q\n  label: Q\n  type: multiple_choice\n  choices: [a, b, a]\n",
            'fields.2.choices (line 13): choice 3 has the value "a" of choice 1; '
            "each choice needs its own value",
        ),
        (
            "- name: q\n  label: Q\n  type: single_choice\n  choices: [only]\n",
            "fields.2.choices (line 13): must list at least 2 entries",
        ),
        (
            "- name: q\n  label: Q\n  type: text\n  max_length: 10001\n",
            "fields.2.max_length (line 13): must be at most 10000 (got 10001)",
        ),
    ],
    ids=[
        "choices-missing",
        "choices-on-text",
        "min-on-date",
        "max-length-on-number",
        "min-above-max",
        "duplicate-choice",
        "one-choice",
        "max-length-over-link-limit",
    ],
)
def test_settings_must_fit_the_question_type(question: str, expected: str) -> None:
    assert problems_of(form_with(question)) == [expected]


def test_unquoted_yes_and_no_choices_are_explained() -> None:
    found = problems_of(
        form_with("- name: q\n  label: Q\n  type: single_choice\n  choices:\n    - Yes\n    - No\n")
    )
    assert len(found) == 2
    assert found[0].startswith("fields.2.choices.0 (line 14): YAML reads an unquoted yes")
    assert 'put this text in quotes, like "Yes"' in found[0]


def test_a_number_where_text_belongs_asks_for_quotes() -> None:
    found = problems_of(form_with("- name: q\n  label: 1.50\n  type: text\n"))
    assert found == [
        'fields.2.label (line 11): YAML reads this as a number; put it in quotes, like "1.5"'
    ]


def test_yaml_syntax_error_has_a_line() -> None:
    found = problems_of("key: a\ntitle: [unclosed\nfields: []\n")
    assert len(found) == 1
    assert found[0].startswith("line 3: not valid YAML")


def test_empty_file_points_at_an_example() -> None:
    assert problems_of("") == ["the file is empty; start from config/forms/new-patient-intake.yaml"]


def test_every_problem_is_reported_at_once() -> None:
    found = problems_of("""\
        key: ok-key
        title: ""
        fields:
          - name: a
            label: A
            type: txt
          - name: b
            type: number
            min: lots
        """)
    assert [problem.split(":")[0] for problem in found] == [
        "title (line 2)",
        "fields.0.type (line 6)",
        "fields.1.label (line 7)",
        "fields.1.min (line 9)",
    ]


def test_model_refuses_more_questions_than_the_link_carries() -> None:
    fields = [{"name": f"q{i}", "label": "Q", "type": "text"} for i in range(201)]
    with pytest.raises(ValueError, match="at most 200"):
        FormDefinition.model_validate({"key": "big", "title": "Big", "fields": fields})


def test_number_limits_are_sent_whole_when_they_are_whole() -> None:
    definition = parse_definition(
        form_with("- name: q\n  label: Q\n  type: number\n  min: 0\n  max: 7.5\n")
    )
    question = definition.field("q")
    assert question is not None
    shown = question.for_patient()
    assert (repr(shown["min"]), repr(shown["max"])) == ("0", "7.5")
