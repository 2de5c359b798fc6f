"""Every mistake in a file is reported in one go, each with its dotted path and line."""

from __future__ import annotations

import pytest

from agent.config import ConfigInvalid, ConfigProblem, parse_config

FOUR_MISTAKES = """\
practice:
  name: Example Family Clinic
  phone: "+1 555 0100"
  timezone: America/New_York
  subdomain: example-clinic
listen:
  port: 70000
  allowed_proxies:
    - 203.0.113.0/24
tls:
  key_file: /etc/portico/tls/key.pem
  proxy_pins:
    - "sha256/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
database:
  name: practice
booking:
  horizon_days: 60
  round_to_minutes: 20
access:
  lockout_minutes: 600
portal:
  url: https://example-clinic.portal.example.com
"""


def problems_of(text: str) -> list[ConfigProblem]:
    with pytest.raises(ConfigInvalid) as caught:
        parse_config(text)
    return caught.value.problems


def test_four_mistakes_give_four_problems_with_their_paths_and_lines() -> None:
    problems = problems_of(FOUR_MISTAKES)

    assert [(p.path, p.line) for p in problems] == [
        ("listen.port", 7),
        # A missing key is placed on the line of the section it belongs in.
        ("tls.cert_file", 10),
        ("booking.round_to_minutes", 18),
        ("access.lockout_minutes", 20),
    ]


def test_messages_say_what_is_allowed_and_what_was_found() -> None:
    messages = {p.path: str(p) for p in problems_of(FOUR_MISTAKES)}

    assert messages["booking.round_to_minutes"] == (
        "booking.round_to_minutes (line 18): must be 15, 30 or 60 (got 20)"
    )
    assert messages["listen.port"] == "listen.port (line 7): must be at most 65535 (got 70000)"
    assert messages["access.lockout_minutes"].endswith("must be at most 60 (got 600)")
    assert messages["tls.cert_file"] == "tls.cert_file (line 10): required; add this setting"


def test_a_missing_section_is_named() -> None:
    text = FOUR_MISTAKES.replace("database:\n  name: practice\n", "")

    problems = problems_of(text)

    assert ConfigProblem("database", None, "required; add this section") in problems
    assert len(problems) == 5


def test_wrong_types_are_reported_in_words() -> None:
    text = (
        FOUR_MISTAKES.replace("port: 70000", "port: lots")
        .replace("horizon_days: 60", "horizon_days: [60]")
        .replace("  lockout_minutes: 600", "  self_registration: maybe")
        .replace("database:\n  name: practice", "database: practice")
    )

    messages = {p.path: p.message for p in problems_of(text)}

    assert messages["listen.port"] == 'must be a whole number (got "lots")'
    assert messages["booking.horizon_days"] == "must be a whole number (got a list)"
    assert messages["access.self_registration"] == 'must be true or false (got "maybe")'
    assert messages["database"] == "must be a section of settings (key: value lines), not text"


def test_a_list_given_as_a_single_value_is_reported() -> None:
    text = FOUR_MISTAKES.replace(
        "  allowed_proxies:\n    - 203.0.113.0/24", "  allowed_proxies: 203.0.113.0/24"
    )

    messages = {p.path: p.message for p in problems_of(text)}

    assert messages["listen.allowed_proxies"].startswith("must be a list")


def test_the_exception_text_lists_the_problems() -> None:
    with pytest.raises(ConfigInvalid, match=r"^4 problems in the config: listen\.port \(line 7\)"):
        parse_config(FOUR_MISTAKES)
