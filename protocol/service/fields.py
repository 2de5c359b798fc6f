"""The config rules agent.yaml and proxy.yaml share: one definition each, used by both.

An office's subdomain is written in both files (the agent's ``practice.subdomain``, the key of
its entry in the proxy's ``tenants``), and so are phones, pins and networks. Were the rules
copied, they would drift: an office could then configure an agent that no proxy routes to.
Each rule is a plain function raising ValueError with a message shown to an admin as it is,
and a pydantic field type carrying it.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field
from pydantic_core import PydanticCustomError

from protocol.keys import normalise_pin

__all__ = [
    "RESERVED_SUBDOMAINS",
    "Network",
    "Phone",
    "Pin",
    "Port",
    "Subdomain",
    "Whole",
    "is_dns_label",
    "network",
    "phone",
    "subdomain",
]

# Names that belong to the portal operator, not to an office: a tenant called "www" or "api"
# would shadow the operator's own site, mail or status page, or invite phishing ("login.").
RESERVED_SUBDOMAINS = frozenset(
    {
        "about", "account", "accounts", "admin", "agent", "api", "app", "apps", "assets",
        "auth", "autoconfig", "autodiscover", "billing", "blog", "cdn", "console", "dashboard",
        "dev", "dns", "docs", "email", "ftp", "health", "help", "id", "imap", "img", "internal",
        "localhost", "login", "logout", "mail", "media", "metrics", "mobile", "mx", "ns", "ns1",
        "ns2", "oauth", "pop", "pop3", "portal", "portico", "proxy", "register", "root",
        "secure", "security", "signin", "signup", "smtp", "sso", "staging", "static", "status",
        "support", "test", "vpn", "webmail", "www", "www1", "www2",
    }
)  # fmt: skip

_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?")
_PHONE = re.compile(r"[0-9 +().\-]+")


def is_dns_label(text: str) -> bool:
    """One DNS label in lower case: 1-63 of a-z, 0-9 and '-', not starting or ending with '-'."""
    return len(text) <= 63 and text.isascii() and _LABEL.fullmatch(text) is not None


def subdomain(value: str) -> str:
    """An office's label in the portal address (<subdomain>.<portal domain>), in lower case."""
    label = value.lower()
    if not 3 <= len(label) <= 63:
        raise ValueError(f'must be 3 to 63 characters long (got "{value}")')
    if not is_dns_label(label):
        if label.isascii() and re.fullmatch(r"[a-z0-9-]+", label):
            raise ValueError(f'must not start or end with a hyphen (got "{value}")')
        raise ValueError(
            f'may contain only letters a-z, digits and hyphens (got "{value}"); a subdomain is '
            'one part of the address, like "example-clinic"'
        )
    if label[2:4] == "--":
        # RFC 5891: "ab--" labels are reserved for internationalised names (xn--...), which
        # can imitate another office's name in a browser's address bar.
        raise ValueError(f'must not have hyphens as its 3rd and 4th characters (got "{value}")')
    if label in RESERVED_SUBDOMAINS:
        raise ValueError(f'"{label}" is reserved for the portal itself; choose another subdomain')
    return label


def phone(value: str) -> str:
    """A phone number as patients are told to dial it."""
    if not _PHONE.fullmatch(value):
        raise ValueError(f'may contain only digits, spaces and + ( ) - . (got "{value}")')
    if not any(c.isdigit() for c in value):
        raise ValueError(f'must contain the number\'s digits (got "{value}")')
    return value


def network(value: str) -> str:
    """An IP network in CIDR form (a single address is a network of one)."""
    try:
        return str(ipaddress.ip_network(value.strip(), strict=False))
    except ValueError:
        raise ValueError(
            f'"{value}" is not an IP network; write it like 203.0.113.0/24 '
            "(a single address such as 203.0.113.7 is fine too)"
        ) from None


def _not_bool(value: object) -> object:
    # pydantic reads true as 1: "burst: true" would quietly mean a burst of one.
    if isinstance(value, bool):
        raise PydanticCustomError("int_type", "must be a whole number")
    return value


Whole = Annotated[int, BeforeValidator(_not_bool)]
Port = Annotated[Whole, Field(ge=1, le=65535)]
Subdomain = Annotated[str, AfterValidator(subdomain)]
Phone = Annotated[str, AfterValidator(phone)]
Network = Annotated[str, AfterValidator(network)]
Pin = Annotated[str, AfterValidator(normalise_pin)]
"""A key pin, ``sha256/<base64>`` (:func:`protocol.keys.normalise_pin`)."""
