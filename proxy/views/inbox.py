"""Secure messages with the office: the inbox, one conversation, replying, attachments.

A message body is the patient's or the office's own words: templates show it as escaped text
(line breaks kept by CSS), never as markup. Attachments are only ever downloads: a sanitised
filename, `Content-Disposition: attachment`, and the agent's content type only when it is one
of a few harmless ones, so no file can run as a page on this site.
"""

from __future__ import annotations

import base64
import binascii
import re
import unicodedata
from typing import Any

from aiohttp import web

from protocol.aio import RemoteError
from proxy.views.base import call, office, render, see_other
from proxy.views.forms import idempotency_key, new_idempotency_key, read_form
from proxy.views.header import remember_unread
from proxy.views.messages import field_errors, friendly
from proxy.views.times import local_when

REPLY_MAX = 5000  # characters after trimming, as the agent counts them (docs/protocol.md)
NOTICES = {"sent": "Your reply was sent."}

_SMALL_ID = re.compile(r"[1-9][0-9]{0,9}")
_SMALL_ID_MAX = 2**31 - 1


def path_id(request: web.Request, key: str) -> int:
    """An id from the path (threads, attachments, form assignments), or the 404 page."""
    text = request.match_info.get(key, "")
    if _SMALL_ID.fullmatch(text) and int(text) <= _SMALL_ID_MAX:
        return int(text)
    raise web.HTTPNotFound()


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
    context = {"threads": [_thread_summary(t) for t in listing["threads"]]}
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
    thread = await call(request, "messages.thread", {"thread_id": thread_id})
    await remember_unread(request)  # after opening: the thread's messages now count as read
    here = office(request)
    context = {
        "thread": {
            "id": thread["id"],
            "subject": thread.get("subject") or "(No subject)",
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


async def thread_page(request: web.Request) -> web.Response:
    return await _thread_page(request, path_id(request, "thread_id"))


def _reply_text(value: object) -> str:
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
    typed = _reply_text(form.get("body"))
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
            if exc.code == "forbidden":
                # The office closed the thread to replies since the page was shown: the
                # thread again, which now says so instead of offering the box.
                return await _thread_page(request, thread_id, status=409)
            if exc.code != "invalid_params":
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
_UNSAFE_FILENAME_CHARS = re.compile(r"[^A-Za-z0-9._ -]+")
FILENAME_MAX = 100


def download_type(content_type: object) -> str:
    if not isinstance(content_type, str):
        return "application/octet-stream"
    bare = content_type.split(";", 1)[0].strip().lower()
    return bare if bare in ALLOWED_CONTENT_TYPES else "application/octet-stream"


def safe_filename(name: object, fallback: str = "attachment") -> str:
    """A filename that is harmless in a header and on any disk: ASCII letters, digits, dot,
    dash, underscore and space; no leading dot (a hidden file) or trailing dot or space."""
    text = unicodedata.normalize("NFKD", name) if isinstance(name, str) else ""
    text = text.encode("ascii", "ignore").decode("ascii")  # "café" -> "cafe"
    text = _UNSAFE_FILENAME_CHARS.sub("_", text).strip(" ._")
    if len(text) > FILENAME_MAX:
        stem, dot, extension = text.rpartition(".")
        if dot and 0 < len(extension) <= 10:
            text = f"{stem[: FILENAME_MAX - len(extension) - 1].rstrip(' ._')}.{extension}"
        else:
            text = text[:FILENAME_MAX].rstrip(" ._")
    return text or fallback


def download(data: bytes, filename: str, content_type: str) -> web.Response:
    return web.Response(
        body=data,
        content_type=content_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
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
        data, safe_filename(found.get("filename")), download_type(found.get("content_type"))
    )
