"""portal.url: the https address patients follow from their emails."""

from __future__ import annotations

import pytest

from agent.config import ConfigInvalid, parse_config
from tests.agent.config.example_config import EXAMPLE_TEXT


def with_url(url: str) -> str:
    return EXAMPLE_TEXT.replace("url: https://example-clinic.portal.example.com", f'url: "{url}"')


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("https://example-clinic.portal.example.com/", "https://example-clinic.portal.example.com"),
        ("https://portal.example.com/clinic/", "https://portal.example.com/clinic"),
        ("http://localhost:8080", "http://localhost:8080"),
        ("http://example-clinic.localhost:8080/", "http://example-clinic.localhost:8080"),
    ],
)
def test_https_or_local_http_is_accepted_without_a_trailing_slash(given: str, stored: str) -> None:
    assert parse_config(with_url(given)).portal.url == stored


@pytest.mark.parametrize(
    ("given", "complaint"),
    [
        ("http://example-clinic.portal.example.com", "must start with https://"),
        ("example-clinic.portal.example.com", "must be the full address of the patient portal"),
        ("ftp://example.com", "must be the full address of the patient portal"),
        ("https://", "must be the full address of the patient portal"),
        ("https://example.com:99999", "is not a web address"),
        ("https://user:pw@example.com", "must not contain"),
        ("https://example.com/?next=1", "must not contain"),
    ],
)
def test_other_addresses_are_refused_with_a_reason(given: str, complaint: str) -> None:
    with pytest.raises(ConfigInvalid) as caught:
        parse_config(with_url(given))

    [problem] = caught.value.problems
    assert problem.path == "portal.url"
    assert complaint in problem.message


def test_the_portal_section_is_required() -> None:
    text = EXAMPLE_TEXT.replace("portal:\n", "").replace(
        "  url: https://example-clinic.portal.example.com\n", ""
    )

    with pytest.raises(ConfigInvalid) as caught:
        parse_config(text)

    assert [(p.path, p.message) for p in caught.value.problems] == [
        ("portal", "required; add this section")
    ]
