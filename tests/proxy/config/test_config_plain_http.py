"""`tls: null` means plain HTTP: only for a *.localhost demo, or behind a TLS-terminating load
balancer that the operator declares with `behind_tls_proxy: true`."""

from __future__ import annotations

import pytest

from proxy.config import ConfigInvalid, ConfigProblem, parse_proxy_config

PIN = "sha256/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="


def config_text(domain: str, extra: str = "") -> str:
    return f"""\
portal_domain: {domain}
{extra}link: {{key_file: /k.pem, cert_file: /c.pem}}
secret_file: /secret
tenants:
  example-clinic:
    host: 127.0.0.1
    pins: ["{PIN}"]
    name: Example Family Clinic
    phone: "+1 555 0100"
"""


@pytest.mark.parametrize("domain", ["localhost", "portal.localhost", "LOCALHOST."])
@pytest.mark.parametrize("tls", ["", "tls: null\n"])
def test_a_localhost_demo_may_use_plain_http(domain: str, tls: str) -> None:
    config = parse_proxy_config(config_text(domain, tls))

    assert config.plain_http
    assert config.portal_domain in ("localhost", "portal.localhost")


@pytest.mark.parametrize("tls", ["", "tls: null\n"])
def test_a_real_domain_without_tls_is_refused(tls: str) -> None:
    with pytest.raises(ConfigInvalid) as caught:
        parse_proxy_config(config_text("portal.example.com", tls))

    [problem] = caught.value.problems
    assert problem.path == "tls"
    assert problem.line == (2 if tls else None)
    assert "plain HTTP" in problem.message
    assert "behind_tls_proxy: true" in problem.message


def test_behind_a_tls_terminating_load_balancer_plain_http_is_allowed() -> None:
    config = parse_proxy_config(config_text("portal.example.com", "behind_tls_proxy: true\n"))

    assert config.plain_http and config.behind_tls_proxy


def test_with_a_certificate_any_domain_is_fine() -> None:
    tls = "tls:\n  cert_file: /etc/portico/https/fullchain.pem\n  key_file: /k.pem\n"

    config = parse_proxy_config(config_text("portal.example.com", tls))

    assert not config.plain_http


def test_a_lookalike_of_localhost_is_not_localhost() -> None:
    with pytest.raises(ConfigInvalid) as caught:
        parse_proxy_config(config_text("localhost.example.com"))

    assert [p.path for p in caught.value.problems] == ["tls"]


def test_the_problem_is_not_reported_twice_when_the_domain_itself_is_wrong() -> None:
    with pytest.raises(ConfigInvalid) as caught:
        parse_proxy_config(config_text("https://portal.example.com"))

    assert [p.path for p in caught.value.problems] == ["portal_domain"]
    assert caught.value.problems[0] == ConfigProblem(
        "portal_domain",
        1,
        'must be a domain name only, like portal.example.com, without "https://" or "/"',
    )
