"""Reading the portal's forms: trimmed text, a date of birth in three boxes, new passwords.

The agent validates everything again (it trusts no client); the checks here exist so a patient
gets a plain message next to the right box instead of a round trip and a technical one.
"""

from __future__ import annotations

import re
import secrets
from datetime import date
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy

TOKEN_MAX = 128  # the agent's limit for one-time link tokens
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,128}")
_IDEMPOTENCY_SHAPE = re.compile(r"[A-Za-z0-9_-]{16,64}")
PASSWORD_MAX = 1024  # far above the policy's 128; longer input is cut off before the agent

Errors = dict[str, str]


async def read_form(request: web.Request) -> MultiDictProxy[Any]:
    return await request.post()


def text(form: MultiDictProxy[Any], name: str, limit: int = 320) -> str:
    value = form.get(name, "")
    return value.strip()[:limit] if isinstance(value, str) else ""


def secret(form: MultiDictProxy[Any], name: str) -> str:
    """A password exactly as typed: never trimmed (spaces are part of it), never echoed back."""
    value = form.get(name, "")
    return value[:PASSWORD_MAX] if isinstance(value, str) else ""


def link_token(value: object) -> str | None:
    """The one-time token from an emailed link, when it could be one."""
    return value if isinstance(value, str) and _TOKEN_SHAPE.fullmatch(value) else None


def new_idempotency_key() -> str:
    return secrets.token_urlsafe(18)


def idempotency_key(form: MultiDictProxy[Any]) -> str | None:
    value = form.get("idem")
    return value if isinstance(value, str) and _IDEMPOTENCY_SHAPE.fullmatch(value) else None


def required(form: MultiDictProxy[Any], errors: Errors, name: str, message: str, limit: int) -> str:
    value = text(form, name, limit)
    if not value:
        errors[name] = message
    return value


def birth_date(form: MultiDictProxy[Any], errors: Errors) -> str:
    """Month, day and year boxes (easier than a date picker for a birth year long ago) as
    YYYY-MM-DD, or an error on the `dob` field."""
    parts = [text(form, f"dob_{part}", 4) for part in ("month", "day", "year")]
    if not all(parts):
        errors["dob"] = "Enter your date of birth: month, day and year."
        return ""
    try:
        month, day, year = (int(p) for p in parts)
        born = date(year, month, day)
    except ValueError:
        errors["dob"] = "Enter a real date of birth, for example 3 27 1950."
        return ""
    # Whether the date is a possible birth date (not in the future, not too long ago) is the
    # agent's rule (agent/access/charts.py); its message comes back on the `dob` field.
    return born.isoformat()


def new_password(form: MultiDictProxy[Any], errors: Errors, name: str = "password") -> str:
    password = secret(form, name)
    again = secret(form, f"{name}_again")
    if not password:
        errors[name] = "Choose a password of at least 12 characters."
    elif password != again:
        errors[f"{name}_again"] = "The two passwords are not the same. Type the new one twice."
    return password
