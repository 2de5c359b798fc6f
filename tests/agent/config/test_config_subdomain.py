"""practice.subdomain: one DNS label, stored in lower case."""

from __future__ import annotations

import pytest

from agent.config import ConfigInvalid, parse_config
from tests.agent.config.example_config import EXAMPLE_TEXT


def with_subdomain(value: str) -> str:
    return EXAMPLE_TEXT.replace("subdomain: example-clinic", f'subdomain: "{value}"')


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("example-clinic", "example-clinic"),
        ("Example-Clinic", "example-clinic"),
        ("a", "a"),
        ("x" * 63, "x" * 63),
        ("clinic42", "clinic42"),
    ],
)
def test_labels_are_accepted_in_lower_case(given: str, stored: str) -> None:
    assert parse_config(with_subdomain(given)).practice.subdomain == stored


@pytest.mark.parametrize(
    ("given", "complaint"),
    [
        ("example_clinic", "only letters a-z, digits and hyphens"),
        ("example-clinic.portal.example.com", 'like "example-clinic"'),
        ("clínica", "only letters a-z, digits and hyphens"),
        ("-clinic", "must not start or end with a hyphen"),
        ("clinic-", "must not start or end with a hyphen"),
        ("x" * 64, "at most 63 characters"),
        ("", "must not be empty"),
    ],
)
def test_anything_else_is_refused_with_a_reason(given: str, complaint: str) -> None:
    with pytest.raises(ConfigInvalid) as caught:
        parse_config(with_subdomain(given))

    [problem] = caught.value.problems
    assert problem.path == "practice.subdomain"
    assert complaint in problem.message
