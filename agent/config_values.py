"""Single values of agent.yaml: the checks of one setting, and the field types carrying them.

The sections and the loading are in agent/config.py; these checks depend on no other setting,
and their messages are shown to an office admin as they are. The rules proxy.yaml shares
(subdomain, phone, networks, pins, ports) are in protocol/service/fields.py, used by both.
"""

from __future__ import annotations

import difflib
import re
import zoneinfo
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field

from protocol.service.fields import Whole

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
