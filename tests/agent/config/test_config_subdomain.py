"""practice.subdomain: one DNS label, stored in lower case, by the same rule the proxy applies
to its tenants (protocol/service/fields.py): a subdomain the proxy refuses is refused here too,
or an office could configure an agent that no proxy routes to."""

from __future__ import annotations

import pytest

from agent.config import ConfigInvalid, parse_config
from protocol.service.fields import RESERVED_SUBDOMAINS
from tests.agent.config.example_config import EXAMPLE_TEXT


def with_subdomain(value: str) -> str:
    return EXAMPLE_TEXT.replace("subdomain: example-clinic", f'subdomain: "{value}"')


def refusal(value: str) -> str:
    with pytest.raises(ConfigInvalid) as caught:
        parse_config(with_subdomain(value))

    [problem] = caught.value.problems
    assert problem.path == "practice.subdomain"
    assert problem.line == 30
    return problem.message


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("example-clinic", "example-clinic"),
        ("Example-Clinic", "example-clinic"),
        ("abc", "abc"),
        ("x" * 63, "x" * 63),
        ("clinic42", "clinic42"),
        ("a-b-c", "a-b-c"),
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
    assert complaint in refusal(given)


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("a", 'must be 3 to 63 characters long (got "a")'),
        ("ab", 'must be 3 to 63 characters long (got "ab")'),
        ("ab--cd", 'must not have hyphens as its 3rd and 4th characters (got "ab--cd")'),
        ("xn--clinic", 'must not have hyphens as its 3rd and 4th characters (got "xn--clinic")'),
        ("www", '"www" is reserved for the portal itself; choose another subdomain'),
        ("API", '"api" is reserved for the portal itself; choose another subdomain'),
    ],
)
def test_what_the_proxy_refuses_is_refused_here_in_the_same_words(given: str, message: str) -> None:
    assert refusal(given) == message


@pytest.mark.parametrize("reserved", sorted(RESERVED_SUBDOMAINS))
def test_every_name_the_portal_keeps_for_itself_is_refused(reserved: str) -> None:
    expected = f'"{reserved}" is reserved for the portal itself; choose another subdomain'
    if len(reserved) < 3:  # "id", "mx", "ns": refused as too short before being looked up
        expected = f'must be 3 to 63 characters long (got "{reserved}")'
    assert refusal(reserved) == expected
