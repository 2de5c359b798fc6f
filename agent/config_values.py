"""Single values of agent.yaml: the checks of one setting, and the field types carrying them.

The sections and the loading are in agent/config.py; these checks depend on no other setting,
and their messages are shown to an office admin as they are. The rules proxy.yaml shares
(subdomain, phone, networks, pins, ports) are in protocol/service/fields.py, used by both.
"""

from __future__ import annotations

import difflib
import ipaddress
import re
import zoneinfo
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field

from protocol.service.fields import Whole, is_dns_label

# --- single-value checks ----------------------------------------------------------------------

_MYSQL_NAME = re.compile(r"[A-Za-z0-9_$]{1,64}")


def _timezone(name: str) -> str:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        close = difflib.get_close_matches(name, zoneinfo.available_timezones(), n=1)
        hint = f"did you mean {close[0]}?" if close else "for example America/New_York"
        raise ValueError(f'unknown time zone "{name}": use an IANA name; {hint}') from None
    return name


def _mysql_name(value: str) -> str:
    if not _MYSQL_NAME.fullmatch(value):
        raise ValueError(
            f'must be 1 to 64 letters, digits, "_" or "$" (got "{value}"); '
            "use the database name exactly as the practice system created it"
        )
    return value


def _mail_address(value: str) -> str:
    local, at, domain = value.rpartition("@")
    if not (local and at and domain) or any(c.isspace() or not c.isprintable() for c in value):
        raise ValueError(f'must be an email address like portal@example-clinic.com (got "{value}")')
    return value


def _portal_url(value: str) -> str:
    text, example = value.strip(), "https://example-clinic.portal.example.com"
    try:
        parts = urlsplit(text)
        host = (parts.hostname or "").lower()
        _ = parts.port  # raises ValueError on a malformed port
    except ValueError:
        raise ValueError(f"is not a web address; write it like {example}") from None
    if parts.scheme not in ("https", "http") or not host:
        raise ValueError(f"must be the full address of the patient portal, like {example}")
    if parts.scheme == "http" and host != "localhost" and not host.endswith(".localhost"):
        raise ValueError("must start with https:// (http:// only for localhost, for testing)")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ValueError("must not contain a user name, password, '?' or '#' part")
    return text.rstrip("/")


Hours = Annotated[Whole, Field(ge=0, le=8760)]


# The field types the sections use: a value is checked the same wherever the type appears.
TimeZoneName = Annotated[str, AfterValidator(_timezone)]
MysqlName = Annotated[str, AfterValidator(_mysql_name)]
MailAddress = Annotated[str, AfterValidator(_mail_address)]
PortalUrl = Annotated[str, AfterValidator(_portal_url)]


def _topics(values: tuple[str, ...]) -> tuple[str, ...]:
    seen: dict[str, str] = {}
    for topic in values:
        key = topic.casefold()
        if key in seen:
            raise ValueError(f'"{topic}" is listed twice (as "{seen[key]}" too); list each once')
        seen[key] = topic
    return values


def _topic(value: str) -> str:
    text = value.strip()
    if not text:
        raise ValueError("a topic must not be blank")
    if not text.isprintable():
        raise ValueError("a topic must be one line of plain text")
    return text


# Short enough for a drop-down on a phone and for a column in `messages list`.
TOPIC_MAX = 60
Topic = Annotated[str, Field(max_length=TOPIC_MAX), AfterValidator(_topic)]
Topics = Annotated[tuple[Topic, ...], AfterValidator(_topics)]


# --- the portal's link endpoints (link.portal) --------------------------------------------------

_ENDPOINT_EXAMPLE = "links.portal.example.com:4443"


def split_endpoint(text: str) -> tuple[str, int]:
    """``host:port`` (``[v6]:port`` for an IPv6 address) as (host, port); ValueError, in words
    an office admin can act on, when it is not one."""
    value = text.strip()
    if not value:
        raise ValueError(f"must not be empty; write the endpoint like {_ENDPOINT_EXAMPLE}")
    if "/" in value or "@" in value:
        raise ValueError(
            f'"{text}": write only the host and port, like {_ENDPOINT_EXAMPLE} '
            '(no "https://", no path)'
        )
    if value.startswith("["):
        host, bracket, rest = value[1:].partition("]")
        if not bracket or not rest.startswith(":"):
            raise ValueError(
                f'"{text}": write an IPv6 endpoint as [address]:port, like [2001:db8::7]:4443'
            )
        port_text = rest[1:]
        try:
            if ipaddress.ip_address(host).version != 6:
                raise ValueError
        except ValueError:
            raise ValueError(f'"{text}": [{host}] is not an IPv6 address') from None
    else:
        host, colon, port_text = value.rpartition(":")
        if not colon:
            raise ValueError(
                f'"{text}" has no port; add the one your Portico provider gave you, '
                f"like {_ENDPOINT_EXAMPLE}"
            )
        if ":" in host:
            raise ValueError(f'"{text}": put an IPv6 address in brackets, like [2001:db8::7]:4443')
        _host_name_or_ipv4(host, text)
    if not port_text.isascii() or not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise ValueError(f'"{text}": the port must be a number from 1 to 65535')
    return host.lower(), int(port_text)


def _host_name_or_ipv4(host: str, text: str) -> None:
    try:
        ipaddress.IPv4Address(host)
        return
    except ValueError:
        pass
    labels = host.lower().rstrip(".").split(".")
    if not host or not all(is_dns_label(label) for label in labels):
        raise ValueError(
            f'"{text}": "{host}" is neither a host name nor an IP address; '
            f"write it like {_ENDPOINT_EXAMPLE}"
        )
    if all(label.isdigit() for label in labels):
        raise ValueError(f'"{text}": "{host}" is not an IPv4 address')


def _endpoint(value: str) -> str:
    host, port = split_endpoint(value)
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _endpoints(values: tuple[str, ...]) -> tuple[str, ...]:
    seen = set()
    for value in values:
        if value in seen:
            raise ValueError(f'"{value}" is listed twice; list each endpoint once')
        seen.add(value)
    return values


Endpoint = Annotated[str, AfterValidator(_endpoint)]
"""A link endpoint of the portal, normalised ``host:port`` (:func:`split_endpoint` splits it)."""
Endpoints = Annotated[tuple[Endpoint, ...], AfterValidator(_endpoints)]
