"""The rules agent.yaml and proxy.yaml share are one rule: for the same value, both config
loaders accept it (and store the same thing) or both refuse it with the same message.

A subdomain is written twice (the agent's practice.subdomain, the key of the office's entry in
the proxy's tenants) and the two must agree, or an office configures an agent that no proxy
routes to; the same holds for the office phone, key pins and networks.
"""

from __future__ import annotations

import pytest

from agent.config import ConfigInvalid as AgentConfigInvalid
from agent.config import parse_config
from proxy.config import ConfigInvalid as ProxyConfigInvalid
from proxy.config import parse_proxy_config
from tests.agent.config.example_config import EXAMPLE_TEXT

PIN = "sha256/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
ENTRY = '"{subdomain}": {{host: 203.0.113.7, pins: ["{pin}"], name: Some Clinic, phone: "{phone}"}}'
PROXY_YAML = """\
portal_domain: portal.example.com
behind_tls_proxy: true
link: {{key_file: /k.pem, cert_file: /c.pem}}
secret_file: /secret
trusted_proxies: ["{network}"]
tenants:
  {entry}
"""


def proxy_verdict(
    *,
    subdomain: str = "example-clinic",
    phone: str = "+1 555 0100",
    pin: str = PIN,
    network: str = "10.0.0.0/8",
) -> tuple[str, str]:
    entry = ENTRY.format(subdomain=subdomain, pin=pin, phone=phone)
    try:
        config = parse_proxy_config(PROXY_YAML.format(network=network, entry=entry))
    except ProxyConfigInvalid as invalid:
        [problem] = invalid.problems
        return "refused", problem.message
    [(stored, tenant)] = config.tenants.items()
    return "accepted", f"{stored} {tenant.phone} {tenant.pins[0]} {config.trusted_proxies[0]}"


def agent_verdict(
    *,
    subdomain: str = "example-clinic",
    phone: str = "+1 555 0100",
    pin: str = PIN,
    network: str = "10.0.0.0/8",
) -> tuple[str, str]:
    text = (
        EXAMPLE_TEXT.replace("subdomain: example-clinic", f'subdomain: "{subdomain}"')
        .replace('phone: "+1 555 0100"', f'phone: "{phone}"')
        .replace('- "203.0.113.0/24"', f'- "{network}"')
    )
    pins = text.split("proxy_pins:\n", 1)
    text = pins[0] + f'proxy_pins:\n    - "{pin}"\n' + pins[1].split("\n", 2)[2]
    try:
        config = parse_config(text)
    except AgentConfigInvalid as invalid:
        [problem] = invalid.problems
        return "refused", problem.message
    practice, listen, tls = config.practice, config.listen, config.tls
    return (
        "accepted",
        f"{practice.subdomain} {practice.phone} {tls.proxy_pins[0]} {listen.allowed_proxies[0]}",
    )


@pytest.mark.parametrize(
    "subdomain",
    [
        *("example-clinic", "Example-Clinic", "abc", "clinic42", "x" * 63, "2024"),
        *("a", "ab", "ab--cd", "xn--clinic", "-clinic", "clinic-", "my_clinic", "clinic.north"),
        *("zürich", "dr smith", " abc", "www", "API", "mail", "status", "localhost"),
    ],
)
def test_agent_and_proxy_judge_a_subdomain_alike(subdomain: str) -> None:
    assert agent_verdict(subdomain=subdomain) == proxy_verdict(subdomain=subdomain)


@pytest.mark.parametrize(
    "phone", ["+1 555 0100", "(555) 010-0100", "555.0100.99", "call us", "+1 555 O100", "--------"]
)
def test_agent_and_proxy_judge_a_phone_alike(phone: str) -> None:
    assert agent_verdict(phone=phone) == proxy_verdict(phone=phone)


@pytest.mark.parametrize(
    "pin",
    [PIN, f"  {PIN} ", "sha256/too-short=", PIN.replace("sha256", "sha1"), "AAAA"],
)
def test_agent_and_proxy_judge_a_pin_alike(pin: str) -> None:
    assert agent_verdict(pin=pin) == proxy_verdict(pin=pin)


@pytest.mark.parametrize(
    "network", ["10.0.0.0/8", "10.0.0.7", "10.1.2.3/8", "2001:db8::/48", "10.0.0.0/33", "office"]
)
def test_agent_and_proxy_judge_a_network_alike(network: str) -> None:
    assert agent_verdict(network=network) == proxy_verdict(network=network)
