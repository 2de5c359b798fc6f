"""listen.allowed_proxies: the networks the proxies connect from, as CIDRs."""

from __future__ import annotations

import ipaddress

import pytest

from agent.config import ConfigInvalid, parse_config
from tests.agent.config.example_config import EXAMPLE_TEXT

ENTRY = '    - "203.0.113.0/24"'


def with_proxies(*entries: str) -> str:
    assert EXAMPLE_TEXT.count(ENTRY) == 1
    return EXAMPLE_TEXT.replace(ENTRY, "\n".join(f'    - "{e}"' for e in entries))


def test_networks_single_addresses_and_ipv6_are_accepted_and_normalised() -> None:
    config = parse_config(with_proxies("203.0.113.77/24", "198.51.100.7", "2001:DB8::/48"))

    assert config.listen.allowed_proxies == ("203.0.113.0/24", "198.51.100.7/32", "2001:db8::/48")
    assert ipaddress.ip_address("203.0.113.200") in config.listen.proxy_networks()[0]


@pytest.mark.parametrize("entry", ["203.0.113.0/33", "300.1.2.3", "proxy.example.com", ""])
def test_something_that_is_not_a_network_is_reported_at_its_position(entry: str) -> None:
    with pytest.raises(ConfigInvalid) as caught:
        parse_config(with_proxies("203.0.113.0/24", entry))

    [problem] = caught.value.problems
    assert problem.path == "listen.allowed_proxies.1"
    assert problem.line == EXAMPLE_TEXT.splitlines().index(ENTRY) + 2
    assert problem.message.startswith(f'"{entry}" is not an IP network; write it like')


def test_at_least_one_network_is_required() -> None:
    with pytest.raises(ConfigInvalid) as caught:
        parse_config(EXAMPLE_TEXT.replace("  allowed_proxies:\n" + ENTRY, "  allowed_proxies: []"))

    assert [(p.path, p.message) for p in caught.value.problems] == [
        ("listen.allowed_proxies", "must list at least 1 entry")
    ]
