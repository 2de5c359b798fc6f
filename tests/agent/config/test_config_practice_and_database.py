"""practice.phone, database.name and email.from_address: plain-text checks with clear reasons."""

from __future__ import annotations

import json

import pytest

from agent.config import ConfigInvalid, parse_config
from tests.agent.config.example_config import EXAMPLE_TEXT


def edited(old: str, new: str) -> str:
    assert EXAMPLE_TEXT.count(old) == 1, old
    return EXAMPLE_TEXT.replace(old, new)


def only_problem(text: str) -> tuple[str, str]:
    with pytest.raises(ConfigInvalid) as caught:
        parse_config(text)
    [problem] = caught.value.problems
    return problem.path, problem.message


@pytest.mark.parametrize("phone", ["+1 555 0100", "(555) 010-0100", "555.010.0100", "5550100"])
def test_usual_phone_formats_are_accepted(phone: str) -> None:
    assert parse_config(edited('phone: "+1 555 0100"', f'phone: "{phone}"')).practice.phone == phone


@pytest.mark.parametrize(
    ("phone", "complaint"),
    [
        ("555-CLINIC", "may contain only digits, spaces and + ( ) - ."),
        ("+1 555", "must be at least 7 characters long"),
        ("+() -. +", "must contain the number's digits"),
    ],
)
def test_a_bad_phone_number_is_refused(phone: str, complaint: str) -> None:
    path, message = only_problem(edited('phone: "+1 555 0100"', f'phone: "{phone}"'))

    assert path == "practice.phone"
    assert complaint in message


def test_an_unquoted_number_is_told_to_use_quotes() -> None:
    assert only_problem(edited('phone: "+1 555 0100"', "phone: 5550100")) == (
        "practice.phone",
        "must be text; put it in quotes (got a number)",
    )


@pytest.mark.parametrize("name", ["practice", "Practice_2024", "ehr$live", "x" * 64])
def test_renamed_databases_are_accepted(name: str) -> None:
    config = parse_config(edited("  name: practice", f'  name: "{name}"'))

    assert config.database.name == name


@pytest.mark.parametrize("name", ["practice-db", "my practice", "x" * 65, "pr;drop"])
def test_database_names_mysql_would_need_quoting_are_refused(name: str) -> None:
    path, message = only_problem(edited("  name: practice", f'  name: "{name}"'))

    assert path == "database.name"
    assert message.startswith('must be 1 to 64 letters, digits, "_" or "$"')


@pytest.mark.parametrize(
    "address", ["portal", "portal@", "@example.com", "Front Desk portal@example.com", "a@b\nBcc: x"]
)
def test_a_from_address_that_is_not_one_address_is_refused(address: str) -> None:
    text = edited(
        'from_address: "portal@example-clinic.com"', f"from_address: {json.dumps(address)}"
    )

    path, message = only_problem(text)

    assert path == "email.from_address"
    assert message.startswith("must be an email address like portal@example-clinic.com")


def test_smtp_mode_needs_an_smtp_section() -> None:
    start = EXAMPLE_TEXT.index("  # Your mail server;")
    end = EXAMPLE_TEXT.index("    timeout_seconds: 10\n") + len("    timeout_seconds: 10\n")
    text = (EXAMPLE_TEXT[:start] + EXAMPLE_TEXT[end:]).replace("mode: folder", "mode: smtp")

    assert only_problem(text) == (
        "email.smtp",
        "required when mode is smtp; add an smtp: section with host",
    )
