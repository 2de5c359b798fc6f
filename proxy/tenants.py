"""Which office a request is for: the leftmost label of its Host header, under the portal domain.

The Host header is chosen by whoever sends the request, so it is parsed strictly: anything that
is not exactly ``<one DNS label>.<portal domain>`` (optionally with ``:port`` and the DNS root's
trailing dot) names no tenant, rather than a best guess.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Mapping

from protocol.service.fields import is_dns_label
from proxy.config import ProxyConfig, TenantConfig

# A DNS name is at most 253 characters; with ":65535" and a trailing dot, 260 is generous.
_MAX_HOST = 260


def tenant_from_host(host_header: str | None, portal_domain: str) -> str | None:
    """The tenant's subdomain, lower-cased, or None when the header names no tenant.

    ``"Demo.Localhost:8080"`` under ``"localhost"`` is ``"demo"``; ``"a.b.localhost"``,
    ``"localhost"``, ``"demo.evil.com"``, IP literals and malformed headers are None."""
    if not host_header or len(host_header) > _MAX_HOST or not host_header.isascii():
        return None
    host = host_header.lower()
    if host.startswith("["):
        return None  # an IPv6 literal ("[::1]:8080"): never a tenant
    name, colon, port = host.partition(":")
    if colon and not (port.isdigit() and len(port) <= 5 and 0 < int(port) <= 65535):
        return None
    name = name.removesuffix(".")  # "demo.localhost." is the same name, fully qualified
    domain = portal_domain.lower().removesuffix(".")
    label, dot, rest = name.partition(".")
    if not dot or rest != domain or not is_dns_label(label):
        return None
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return label
    return None  # "127.0.0.1" under a domain "0.0.1" (never valid, but never a tenant either)


class TenantRegistry:
    """The offices of the config's ``tenants:``, looked up by subdomain."""

    def __init__(self, config: ProxyConfig) -> None:
        self.portal_domain = config.portal_domain
        self._tenants: Mapping[str, TenantConfig] = dict(config.tenants)

    def get(self, subdomain: str) -> TenantConfig | None:
        """The office at ``subdomain`` (any case), or None."""
        return self._tenants.get(subdomain.lower())

    def for_host(self, host_header: str | None) -> tuple[str, TenantConfig] | None:
        """The (subdomain, office) a request's Host header names, or None."""
        subdomain = tenant_from_host(host_header, self.portal_domain)
        tenant = None if subdomain is None else self._tenants.get(subdomain)
        return None if subdomain is None or tenant is None else (subdomain, tenant)

    def __contains__(self, subdomain: object) -> bool:
        return isinstance(subdomain, str) and subdomain.lower() in self._tenants

    def __iter__(self) -> Iterator[str]:
        return iter(self._tenants)

    def __len__(self) -> int:
        return len(self._tenants)
