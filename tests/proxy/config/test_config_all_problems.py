"""Every mistake in proxy.yaml is reported in one go, each with its dotted path and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from proxy.config import ConfigInvalid, ConfigProblem, load_proxy_config, parse_proxy_config

PIN = "sha256/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="

MISTAKES = f"""\
portal_domain: https://portal.example.com
listen:
  port: 70000
link:
  key_file: /etc/portico/link/key.pem
secret_file: /etc/portico/secret
trusted_proxies:
  - 10.0.0.0/33
rate_limit:
  burst: lots
tenants:
  example-clinic:
    host: clinic.example-ddns.net
    pins:
      - "{PIN}"
    name: Example Family Clinic
    phone: "+1 555 0100"
  www:
    host: 203.0.113.7
    port: 1234
    pins: []
    name: Reserved Clinic
    phone: "+1 555 0101"
"""


def problems_of(text: str) -> list[ConfigProblem]:
    with pytest.raises(ConfigInvalid) as caught:
        parse_proxy_config(text)
    return caught.value.problems


def test_every_mistake_is_reported_at_once_with_its_line() -> None:
    problems = problems_of(MISTAKES)

    assert [(p.path, p.line) for p in problems] == [
        ("portal_domain", 1),
        ("listen.port", 3),
        ("link.cert_file", 4),  # missing: placed on its section's line
        ("trusted_proxies.0", 8),
        ("rate_limit.burst", 10),
        ("tenants.www", 18),
        ("tenants.www.pins", 21),
    ]


def test_messages_say_what_is_wrong_in_words() -> None:
    messages = {p.path: p.message for p in problems_of(MISTAKES)}

    assert messages["portal_domain"].startswith("must be a domain name only")
    assert messages["listen.port"] == "must be at most 65535 (got 70000)"
    assert messages["link.cert_file"] == "required; add this setting"
    assert "is not an IP network" in messages["trusted_proxies.0"]
    assert messages["rate_limit.burst"] == 'must be a whole number (got "lots")'
    assert "reserved" in messages["tenants.www"]
    assert messages["tenants.www.pins"] == "must list at least 1 entry"


def test_unknown_keys_get_a_suggestion_even_inside_a_tenant() -> None:
    text = MISTAKES.replace("    name: Example Family Clinic", "    nmae: Example Family Clinic")

    problem = next(p for p in problems_of(text) if p.path == "tenants.example-clinic.nmae")

    assert problem.message == "unknown key; did you mean name?"
    assert problem.line == 16


def test_a_missing_tenants_section_is_named() -> None:
    text = MISTAKES[: MISTAKES.index("tenants:")]

    assert ConfigProblem("tenants", None, "required; add this section") in problems_of(text)


def test_load_reads_the_file_and_says_how_many_problems(tmp_path: Path) -> None:
    path = tmp_path / "proxy.yaml"
    path.write_text(MISTAKES)

    with pytest.raises(ConfigInvalid, match=r"^7 problems in the config: portal_domain \(line 1\)"):
        load_proxy_config(path)


def test_an_empty_file_points_at_the_example() -> None:
    assert problems_of("") == [
        ConfigProblem("", None, "the file is empty; start from config/proxy.example.yaml")
    ]
