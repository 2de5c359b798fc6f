"""Reading what a patient sends: the portal's forms (trimmed text, a date of birth in three
boxes, new passwords) and the ids in a page's path.

The agent validates everything again (it trusts no client); the checks here exist so a patient
gets a plain message next to the right box instead of a round trip and a technical one.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import date
from typing import Any

from aiohttp import BodyPartReader, hdrs, web
from multidict import MultiDict, MultiDictProxy

TOKEN_MAX = 128  # the agent's limit for one-time link tokens
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,128}")
_IDEMPOTENCY_SHAPE = re.compile(r"[A-Za-z0-9_-]{16,64}")
PASSWORD_MAX = 1024  # far above the policy's 128; longer input is cut off before the agent

Errors = dict[str, str]

# Thread, attachment and form-assignment ids: the agent's INT range.
_SMALL_ID = re.compile(r"[1-9][0-9]{0,9}")
_SMALL_ID_MAX = 2**31 - 1


def path_id(request: web.Request, key: str) -> int:
    """An id from the path (threads, attachments, form assignments), or the 404 page."""
    text = request.match_info.get(key, "")
    if _SMALL_ID.fullmatch(text) and int(text) <= _SMALL_ID_MAX:
        return int(text)
    raise web.HTTPNotFound()


# A form with a file (a new message) has a handful of fields; more parts is not a browser.
MAX_FORM_PARTS = 20
_FORM = web.RequestKey("portico_form", MultiDictProxy)


@dataclass(frozen=True, slots=True)
class Upload:
    """A file sent with a form, held in memory only."""

    filename: str
    content_type: str
    data: bytes


async def read_form(request: web.Request) -> MultiDictProxy[Any]:
    """The POSTed form, read once per request (the CSRF check reads it first); a file field
    is an Upload."""
    form: MultiDictProxy[Any] | None = request.get(_FORM)
    if form is None:
        if request.content_type == "multipart/form-data":
            form = await _read_multipart(request)
        else:
            form = await request.post()
        request[_FORM] = form
    return form


async def _read_multipart(request: web.Request) -> MultiDictProxy[Any]:
    """A multipart form read into memory, within the route's body limit. aiohttp's
    request.post() would spool a file over 1 MiB to a temporary file on disk, and the proxy
    writes nothing about patients to disk. Raises ValueError for a body that is not a form."""
    limit = request.client_max_size
    reader = await request.multipart()
    form: MultiDict[Any] = MultiDict()
    total = 0
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader) or part.name is None:
            raise ValueError("not a form field")
        if len(form) >= MAX_FORM_PARTS:
            raise ValueError("too many form fields")
        raw = bytearray()
        while chunk := await part.read_chunk():
            total += len(chunk)
            if total > limit:
                raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=total)
            raw.extend(chunk)
        data = bytes(part.decode(raw))
        if part.filename is not None:
            content_type = part.headers.get(hdrs.CONTENT_TYPE, "application/octet-stream")
            form.add(part.name, Upload(part.filename, content_type, data))
        else:
            form.add(part.name, data.decode(part.get_charset(default="utf-8")))
    return MultiDictProxy(form)


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
