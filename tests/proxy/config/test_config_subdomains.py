"""Tenant subdomains: one DNS label, 3-63 characters, unique ignoring case, not reserved.

Each refusal names the entry as written, on its own line, so the operator finds it at once.
"""

from __future__ import annotations

import pytest

from proxy.config import ConfigInvalid, ConfigProblem, ProxyConfig, parse_proxy_config

PIN = "sha256/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
HEAD = """\
portal_domain: portal.example.com
behind_tls_proxy: true
link: {key_file: /k.pem, cert_file: /c.pem}
secret_file: /secret
tenants:
"""


def entry(subdomain: str) -> str:
    return f"""\
  {subdomain}:
    host: 203.0.113.7
    pins: ["{PIN}"]
    name: Some Clinic
    phone: "+1 555 0100"
"""


def parse(*subdomains: str) -> ProxyConfig:
    return parse_proxy_config(HEAD + "".join(entry(s) for s in subdomains))


def problems_of(*subdomains: str) -> list[ConfigProblem]:
    with pytest.raises(ConfigInvalid) as caught:
        parse(*subdomains)
    return caught.value.problems


@pytest.mark.parametrize(
    ("subdomain", "message"),
    [
        ("ab", 'must be 3 to 63 characters long (got "ab")'),
        ("a" * 64, "must be 3 to 63 characters long"),
        ("my_clinic", 'may contain only letters a-z, digits and hyphens (got "my_clinic")'),
        ("clinic.north", "may contain only letters a-z, digits and hyphens"),
        ('"dr smith"', "may contain only letters a-z, digits and hyphens"),
        ("zürich", "may contain only letters a-z, digits and hyphens"),
        ("-clinic", 'must not start or end with a hyphen (got "-clinic")'),
        ("clinic-", "must not start or end with a hyphen"),
        ("xn--clinic", "must not have hyphens as its 3rd and 4th characters"),
        ("www", '"www" is reserved for the portal itself; choose another subdomain'),
        ("API", '"api" is reserved for the portal itself'),
    ],
)
def test_bad_subdomains_are_refused_at_their_line(subdomain: str, message: str) -> None:
    problems = problems_of("good-clinic", subdomain)

    written = subdomain.strip('"')
    assert len(problems) == 1
    assert problems[0].path == f"tenants.{written}"
    assert problems[0].line == 11  # the second entry's key
    assert message in problems[0].message


@pytest.mark.parametrize(
    "reserved",
    [
        *("www", "api", "admin", "mail", "smtp", "ftp", "static", "assets", "status"),
        *("portal", "app", "help", "support", "login", "auth", "root", "localhost"),
    ],
)
def test_names_the_portal_needs_for_itself_are_reserved(reserved: str) -> None:
    assert "reserved" in problems_of(reserved)[0].message


def test_two_subdomains_differing_only_in_case_are_one_error_naming_both() -> None:
    problems = problems_of("example-clinic", "other-clinic", "Example-Clinic")

    assert problems == [
        ConfigProblem(
            "tenants.Example-Clinic",
            16,
            'is the same subdomain as "example-clinic" (line 6): addresses ignore upper and '
            "lower case; each office needs its own",
        )
    ]


def test_case_twins_are_reported_together_with_other_problems() -> None:
    text = HEAD + entry("example-clinic") + entry("EXAMPLE-CLINIC") + entry("www")
    text = text.replace("portal_domain: portal.example.com", "portal_domain: 'a b'")

    with pytest.raises(ConfigInvalid) as caught:
        parse_proxy_config(text)

    assert [(p.path, p.line) for p in caught.value.problems] == [
        ("portal_domain", 1),
        ("tenants.EXAMPLE-CLINIC", 11),
        ("tenants.www", 16),
    ]


def test_subdomains_are_kept_in_lower_case() -> None:
    config = parse("Example-Clinic", "2024")  # an all-digit key is read by YAML as a number

    assert list(config.tenants) == ["example-clinic", "2024"]
