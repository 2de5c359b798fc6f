"""Secure messages with the office: the inbox, one conversation, replying, attachments.

A message body is the patient's or the office's own words: templates show it as escaped text
(line breaks kept by CSS), never as markup. Attachments are only ever downloads: a sanitised
filename, `Content-Disposition: attachment`, and the agent's content type only when it is one
of a few harmless ones, so no file can run as a page on this site.

Opening a conversation marks its messages read, on a GET. Only when the patient opened it
themselves: a link on another site (SameSite=Lax cookies ride along on a top-level
navigation) shows the thread but leaves it unread.
"""

from __future__ import annotations

import base64
import binascii
import re
import unicodedata
from itertools import groupby
from typing import Any
from urllib.parse import quote

from aiohttp import web

from protocol.aio import RemoteError
from protocol.errors import ErrorCode
from proxy.views.base import call, office, render, see_other
from proxy.views.form_input import idempotency_key, new_idempotency_key, path_id, read_form
from proxy.views.header import remember_unread, show_unread
from proxy.views.times import local_when
from proxy.views.wording import field_errors, friendly

REPLY_MAX = 5000  # characters after trimming, as the agent counts them (docs/protocol.md)
NOTICES = {
    "sent": "Your reply was sent.",
    "started": "Your message was sent. The office will answer here.",
}

# -- the inbox --------------------------------------------------------------------------------


def _thread_summary(thread: dict[str, Any]) -> dict[str, Any]:
    unread = thread.get("unread")
    return {
        "id": thread["id"],
        "subject": thread.get("subject") or "(No subject)",
        "when": local_when(thread.get("local_last") or thread.get("last_at") or ""),
        "unread": unread if isinstance(unread, int) and not isinstance(unread, bool) else 0,
        "count": thread.get("messages", 0),
        "from_office": thread.get("last_from") == "office",
    }


async def messages_page(request: web.Request) -> web.Response:
    listing = await call(request, "messages.list")
    context = {
        "threads": [_thread_summary(t) for t in listing["threads"]],
        # The agent says whether this office takes new messages (agent.yaml messages:).
        "can_start": listing.get("can_start") is True,
    }
    return render(request, "messages.html", context)


# -- one conversation -------------------------------------------------------------------------


def size_label(size: object) -> str:
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        return ""
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{max(1, round(size / 1024))} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def _message(message: dict[str, Any], office_name: str) -> dict[str, Any]:
    mine = message.get("from") == "patient"
    return {
        "mine": mine,
        "author": "You" if mine else (message.get("author") or office_name),
        "when": local_when(message.get("local_sent") or message.get("sent_at") or ""),
        "body": message.get("body", ""),
        "attachments": [
            {
                "id": a["id"],
                "filename": a.get("filename") or "attachment",
                "size": size_label(a.get("size")),
            }
            for a in message.get("attachments", [])
        ],
    }


async def _thread_page(
    request: web.Request,
    thread_id: int,
    *,
    typed: str = "",
    error: str | None = None,
    status: int = 200,
) -> web.Response:
    params: dict[str, Any] = {"thread_id": thread_id}
    if not opened_by_patient(request):
        # Only sent when false: an agent from before the parameter keeps working for every
        # page the patient opens from the portal itself.
        params["mark_read"] = False
    thread = await call(request, "messages.thread", params)
    # The header's count after opening (the thread's messages may now count as read): in the
    # answer, or asked for now from an agent before issue 14.
    if not show_unread(request, thread.get("patient_unread")):
        await remember_unread(request)
    here = office(request)
    context = {
        "thread": {
            "id": thread["id"],
            "subject": thread.get("subject") or "(No subject)",
            "topic": thread.get("topic") if isinstance(thread.get("topic"), str) else "",
            "can_reply": bool(thread.get("can_reply")),
            "messages": [_message(m, here.name) for m in thread["messages"]],
        },
        "typed": typed,
        "errors": {"body": error} if error else {},
        "reply_max": f"{REPLY_MAX:,}",
        "idem": new_idempotency_key(),
        "notice": NOTICES.get(request.query.get("notice", "")),
    }
    return render(request, "thread.html", context, status)


# Sec-Fetch-Site values of a navigation the patient made: from a page of this portal, or a
# typed URL, bookmark or email link opened in a new tab (`none`).
_PATIENT_NAVIGATION = frozenset({"same-origin", "none"})


def opened_by_patient(request: web.Request) -> bool:
    """Whether this request may mark the thread read. `same-site` is another office's portal
    (a sibling subdomain), so it does not count. A browser that sends no Sec-Fetch-Site
    (older ones) keeps the old behaviour rather than never marking anything read."""
    site = request.headers.get("Sec-Fetch-Site")
    return site is None or site.strip().lower() in _PATIENT_NAVIGATION


async def thread_page(request: web.Request) -> web.Response:
    return await _thread_page(request, path_id(request, "thread_id"))


def reply_text(value: object) -> str:
    """The reply as typed, with the browser's CRLF line breaks as plain newlines."""
    return value.replace("\r\n", "\n") if isinstance(value, str) else ""


def reply_problem(body: str) -> str | None:
    text = body.strip()
    if not text:
        return "Write your message before you send it."
    if len(text) > REPLY_MAX:
        return (
            f"Your message is too long: it has {len(text):,} characters and the most is "
            f"{REPLY_MAX:,}. Please shorten it or send it in two parts."
        )
    return None


async def reply(request: web.Request) -> web.Response:
    thread_id = path_id(request, "thread_id")
    form = await read_form(request)
    typed = reply_text(form.get("body"))
    error = reply_problem(typed)
    if error is None:
        try:
            await call(
                request,
                "messages.reply",
                {"thread_id": thread_id, "body": typed.strip()},
                idempotency_key=idempotency_key(form) or new_idempotency_key(),
            )
        except RemoteError as exc:
            if exc.code == ErrorCode.FORBIDDEN:
                # The office closed the thread to replies since the page was shown: the
                # thread again, which now says so instead of offering the box.
                return await _thread_page(request, thread_id, status=409)
            if exc.code != ErrorCode.INVALID_PARAMS:
                raise  # not_found: the 404 page; unavailable: the 503 page
            error = field_errors(exc, {"body": "body"}).get("body") or friendly(
                exc.code, office(request)
            )
        else:
            return see_other(f"/messages/{thread_id}?notice=sent")
    return await _thread_page(request, thread_id, typed=typed, error=error, status=422)


# -- attachments -------------------------------------------------------------------------------

# Types a browser only ever saves or hands to a viewer; anything else is sent as bytes.
ALLOWED_CONTENT_TYPES = frozenset(
    {
        "application/pdf",
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
        "text/plain",
        "text/csv",
        "application/msword",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.ms-excel",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }
)
# Characters the ASCII `filename` may hold; anything else becomes "_".
_UNSAFE_FILENAME_CHARS = re.compile(r"[^A-Za-z0-9._ -]+")
# Path separators, quotes and what Windows refuses in a file name: replaced in every name.
_UNSAFE_ANY_FILENAME = frozenset("/\\\"'<>:|?*")
# Control characters (CR, LF, ESC...), format characters (bidi overrides such as U+202E, which
# make "fdp.exe" read as "exe.pdf"), surrogates, private-use, unassigned, line separators.
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
_EXTENSION = re.compile(r"[A-Za-z0-9]{1,10}")
FILENAME_MAX = 100
FALLBACK_STEM = "attachment"


def download_type(content_type: object) -> str:
    if not isinstance(content_type, str):
        return "application/octet-stream"
    bare = content_type.split(";", 1)[0].strip().lower()
    return bare if bare in ALLOWED_CONTENT_TYPES else "application/octet-stream"


def clean_filename(name: object) -> str:
    """The office's file name, any script kept, made harmless on any disk: no path, quote,
    control or invisible character, no leading dot (a hidden file), at most FILENAME_MAX
    characters with the extension kept. Empty when nothing is left."""
    text = unicodedata.normalize("NFC", name) if isinstance(name, str) else ""
    # Each run of unsafe characters becomes one "_", as in the ASCII name.
    text = "".join(
        "_" if unsafe else "".join(run) for unsafe, run in groupby(text, _unsafe_in_any_name)
    ).strip(" ._")
    if len(text) > FILENAME_MAX:
        stem, extension = _split_extension(text)
        room = FILENAME_MAX - (len(extension) + 1 if extension else 0)
        text = stem[:room].rstrip(" ._") + (f".{extension}" if extension else "")
    return text


def ascii_filename(name: str) -> str:
    """The plain-ASCII stand-in for browsers that ignore `filename*`: accents dropped
    ("café" -> "cafe"), other letters gone; the extension always kept, so "検査結果.pdf"
    still opens as a PDF ("attachment.pdf")."""
    stem, extension = _split_extension(name)
    text = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode("ascii")
    # A leading dot hides a file and trailing dots or spaces vanish on Windows; a lone "_"
    # (the stand-in for letters it could not keep) says nothing.
    text = _UNSAFE_FILENAME_CHARS.sub("_", text).lstrip(" ._").rstrip(" .") or FALLBACK_STEM
    return f"{text}.{extension}" if extension else text


def _unsafe_in_any_name(character: str) -> bool:
    return (
        character in _UNSAFE_ANY_FILENAME
        or unicodedata.category(character) in _INVISIBLE_CATEGORIES
    )


def _split_extension(name: str) -> tuple[str, str]:
    stem, dot, extension = name.rpartition(".")
    if dot and stem and _EXTENSION.fullmatch(extension):
        return stem, extension
    return name, ""


def content_disposition(name: object) -> str:
    """`attachment` with the name twice (RFC 6266): an ASCII `filename` every browser reads,
    and, when the real name differs from it, `filename*` (RFC 5987: UTF-8, percent-encoded),
    which current browsers prefer."""
    cleaned = clean_filename(name)
    fallback = ascii_filename(cleaned)
    header = f'attachment; filename="{fallback}"'
    if cleaned and cleaned != fallback:
        header += f"; filename*=UTF-8''{quote(cleaned, safe='')}"
    return header


def download(data: bytes, disposition: str, content_type: str) -> web.Response:
    return web.Response(
        body=data,
        content_type=content_type,
        headers={"Content-Disposition": disposition},
    )


async def attachment(request: web.Request) -> web.Response:
    found = await call(
        request, "messages.attachment", {"attachment_id": path_id(request, "attachment_id")}
    )
    try:
        data = base64.b64decode(found["data"], validate=True)
    except (binascii.Error, TypeError, ValueError):
        raise web.HTTPInternalServerError() from None  # the error page, not the bad bytes
    return download(
        data,
        content_disposition(found.get("filename")),
        download_type(found.get("content_type")),
    )
