"""Single settings: the portal domain, an agent's host and pins, networks, and the secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from proxy.config import ConfigInvalid, ProxyConfig, parse_proxy_config

PIN = "sha256/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
OTHER_PIN = "sha256/BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBA="


def text(
    *, domain: str = "portal.example.com", host: str = "203.0.113.7", pins: str = f'["{PIN}"]'
) -> str:
    return f"""\
portal_domain: {domain}
behind_tls_proxy: true
link: {{key_file: /k.pem, cert_file: /c.pem}}
secret_file: /secret
trusted_proxies: ["10.1.2.3", "2001:db8::/32"]
tenants:
  example-clinic:
    host: "{host}"
    pins: {pins}
    name: Example Family Clinic
    phone: "+1 555 0100"
"""


def messages(source: str) -> dict[str, str]:
    with pytest.raises(ConfigInvalid) as caught:
        parse_proxy_config(source)
    return {p.path: p.message for p in caught.value.problems}


@pytest.mark.parametrize(
    ("written", "kept"),
    [
        ("Portal.Example.COM", "portal.example.com"),
        ("portal.example.com.", "portal.example.com"),
        ("localhost", "localhost"),
    ],
)
def test_portal_domain_is_normalised(written: str, kept: str) -> None:
    assert parse_proxy_config(text(domain=written)).portal_domain == kept


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ("https://portal.example.com", 'without "https://" or "/"'),
        ("portal.example.com/patients", 'without "https://" or "/"'),
        ("portal.example.com:8443", "without a :port"),
        ("203.0.113.7", "must be a domain name like portal.example.com"),
        ("example", "must be a full domain name"),
        ("portal_example.com", "must be a domain name like portal.example.com"),
    ],
)
def test_portal_domain_must_be_a_plain_domain_name(written: str, message: str) -> None:
    assert message in messages(text(domain=written))["portal_domain"]


@pytest.mark.parametrize(
    ("written", "kept"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:DB8::7", "2001:db8::7"),
        ("Clinic.Example-DDNS.net", "clinic.example-ddns.net"),
        ("clinic.example-ddns.net.", "clinic.example-ddns.net"),
        ("practice-server", "practice-server"),
    ],
)
def test_agent_host_is_a_name_or_an_address(written: str, kept: str) -> None:
    config = parse_proxy_config(text(host=written))

    assert config.tenants["example-clinic"].host == kept
    assert config.tenants["example-clinic"].port == 1234  # the default link port


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ("clinic.example.net:1234", "put the port in port:"),
        ("tcp://clinic.example.net", "must be a host name or IP address only"),
        ("clinic example", "must be the agent's host name or IP address"),
        ("", "must be the agent's host name or IP address"),
    ],
)
def test_agent_host_mistakes_are_explained(written: str, message: str) -> None:
    assert message in messages(text(host=written))["tenants.example-clinic.host"]


def test_several_pins_are_allowed_and_normalised() -> None:
    pins = f'["  {PIN}", "{OTHER_PIN}"]'

    config = parse_proxy_config(text(pins=pins))

    assert config.tenants["example-clinic"].pins == (PIN, OTHER_PIN)


def test_pins_are_checked_and_at_least_one_is_needed() -> None:
    assert messages(text(pins="[]"))["tenants.example-clinic.pins"] == (
        "must list at least 1 entry"
    )
    bad = messages(text(pins='["sha256/nope"]'))
    assert "a SHA-256 pin has 32" in bad["tenants.example-clinic.pins.0"]


def test_trusted_proxies_are_networks() -> None:
    config = parse_proxy_config(text())

    assert config.trusted_proxies == ("10.1.2.3/32", "2001:db8::/32")


def secret_config(path: Path) -> ProxyConfig:
    return parse_proxy_config(text().replace("secret_file: /secret", f"secret_file: {path}"))


def test_the_secret_is_read_from_its_file_without_the_line_break(tmp_path: Path) -> None:
    (tmp_path / "secret").write_text("x" * 40 + "\n")

    assert secret_config(tmp_path / "secret").secret() == b"x" * 40


def test_a_short_secret_is_refused(tmp_path: Path) -> None:
    (tmp_path / "secret").write_text("x" * 31 + "\n")

    with pytest.raises(ValueError, match="at least 32 random bytes"):
        secret_config(tmp_path / "secret").secret()


def test_a_missing_secret_file_is_an_os_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        secret_config(tmp_path / "nope").secret()


def test_the_config_cannot_be_changed_after_loading() -> None:
    config = parse_proxy_config(text())

    with pytest.raises(ValueError, match="frozen"):
        config.portal_domain = "evil.example.com"
