"""Single values of proxy.yaml: the portal's domain, an agent's host, a tenant's key, limits.

Split out of proxy/config.py, which keeps the sections, the cross-field rules and the loading:
these checks depend on no other setting, so they read on their own, and their messages are shown
to the operator as they are. The rules agent.yaml shares (subdomain, phone, networks, pins,
ports) are in protocol/service/fields.py; agent/config_values.py is the agent's counterpart.
"""

from __future__ import annotations

import ipaddress
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field

from protocol.service.fields import Subdomain, Whole, is_dns_label

# --- names on the DNS -------------------------------------------------------------------------


def is_host_name(text: str) -> bool:
    """A lower-case DNS name without a trailing dot: DNS labels, at most 253 characters."""
    return 0 < len(text) <= 253 and all(is_dns_label(label) for label in text.split("."))


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _key_text(value: object) -> object:
    # YAML reads an all-digit key such as 2024: as a number; as a DNS label it is still text.
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _portal_domain(value: str) -> str:
    text = value.strip().lower().removesuffix(".")
    example = "portal.example.com"
    if "://" in text or "/" in text:
        raise ValueError(f'must be a domain name only, like {example}, without "https://" or "/"')
    if ":" in text and not _is_ip(text):
        raise ValueError(f"must be a domain name only, like {example}, without a :port")
    if _is_ip(text) or not is_host_name(text):
        raise ValueError(f'must be a domain name like {example} (got "{value}")')
    if text != "localhost" and ("." not in text or text.rsplit(".", 1)[1].isdigit()):
        raise ValueError(
            f'must be a full domain name like {example} ("localhost" is allowed for a demo) '
            f'(got "{value}")'
        )
    return text


def _agent_host(value: str) -> str:
    text = value.strip().lower()
    example = "office.example-ddns.net or 203.0.113.7"
    if "://" in text or "/" in text:
        raise ValueError(f"must be a host name or IP address only, like {example}")
    if _is_ip(text):
        return str(ipaddress.ip_address(text))
    if ":" in text:
        raise ValueError(f"must be a host name or IP address only; put the port in port: ({text})")
    name = text.removesuffix(".")
    if not is_host_name(name):
        raise ValueError(
            f'must be the agent\'s host name or IP address, like {example} (got "{value}")'
        )
    return name


PerMinute = Annotated[Whole, Field(ge=1, le=10_000)]
# A tenant's subdomain is the key of its entry: the shared rule, once the key is text.
TenantSubdomain = Annotated[Subdomain, BeforeValidator(_key_text)]

# The field types the sections use: a value is checked the same wherever the type appears.
PortalDomain = Annotated[str, AfterValidator(_portal_domain)]
AgentHost = Annotated[str, AfterValidator(_agent_host)]
