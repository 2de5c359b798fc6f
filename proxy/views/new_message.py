"""A conversation the patient starts with the office: a topic from the office's list, a
subject, the message and optionally one file.

The agent decides everything (whether the office takes new messages, its topics, the file's
type and size) and says so in `messages.start_options` and its answers to `messages.start`;
the checks here only give a plain message next to the right box without a round trip. The
file is read into memory (proxy/views/form_input.py) and passed on: nothing is kept.
"""

from __future__ import annotations

import base64
from typing import Any

from aiohttp import web

from protocol.aio import RemoteError
from protocol.errors import ErrorCode
from proxy.views.base import Office, call, office, render, see_other
from proxy.views.form_input import Upload, idempotency_key, new_idempotency_key, read_form, text
from proxy.views.messages import REPLY_MAX, reply_problem, reply_text
from proxy.views.wording import field_errors, friendly

SUBJECT_MAX = 200  # the agent's limits (docs/protocol.md, messages.start)
FILE_MAX = 3 * 1024 * 1024
ACCEPT = ".pdf,.png,.jpg,.jpeg,.txt,application/pdf,image/png,image/jpeg,text/plain"
LABELS = {
    "topic": "What is your message about?",
    "subject": "Subject",
    "body": "Your message",
    "attachment": "Attach a file",
}
# The agent's reasons name content types; the patient gets what to do instead.
FILE_REFUSED = (
    "We could not accept this file. Attach one PDF, PNG, JPG or text file of up to 3 MB, "
    "and check that it opens on your device."
)


def too_many_today(here: Office) -> str:
    call_us = f"call {here.phone}" if here.phone else "call the office"
    return (
        "You have started as many conversations today as the portal takes. Please wait for "
        f"the office to answer, or {call_us}."
    )


async def new_message_page(request: web.Request) -> web.Response:
    options = await call(request, "messages.start_options")
    return _page(request, options)


async def start_message(request: web.Request) -> web.Response:
    form = await read_form(request)
    typed = {
        "topic": text(form, "topic", 200),
        "subject": text(form, "subject", 1000),
        "body": reply_text(form.get("body")),
    }
    upload = form.get("attachment")
    # A file input left empty still sends a part, with no name and no bytes.
    file = upload if isinstance(upload, Upload) and (upload.filename or upload.data) else None
    errors = _problems(typed, file)
    error = None
    if not errors:
        params: dict[str, Any] = {
            "topic": typed["topic"],
            "subject": typed["subject"],
            "body": typed["body"].strip(),
        }
        if file is not None:
            params["attachment"] = {
                "filename": file.filename,
                "data": base64.b64encode(file.data).decode("ascii"),
            }
        try:
            answer = await call(
                request,
                "messages.start",
                params,
                idempotency_key=idempotency_key(form) or new_idempotency_key(),
            )
        except RemoteError as exc:
            if exc.code == ErrorCode.FORBIDDEN:
                # The office stopped taking them since the page showed.
                return _page(request, {"can_start": False})
            if exc.code == ErrorCode.LIMIT_REACHED:
                error = too_many_today(office(request))
            elif exc.code != ErrorCode.INVALID_PARAMS:
                raise  # unavailable: the 503 page
            else:
                errors = field_errors(exc, {name: name for name in LABELS})
                if "attachment" in errors:
                    errors["attachment"] = FILE_REFUSED
                if not errors:
                    error = friendly(exc.code, office(request))
        else:
            return see_other(f"/messages/{int(answer['thread_id'])}?notice=started")
    options = await call(request, "messages.start_options")
    return _page(
        request,
        options,
        typed=typed,
        errors=errors,
        error=error,
        file_dropped=file is not None,
        status=422,
    )


def _problems(typed: dict[str, str], file: Upload | None) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not typed["topic"]:
        errors["topic"] = "Choose what your message is about."
    subject = typed["subject"]
    if not subject:
        errors["subject"] = "Give your message a subject."
    elif len(subject) > SUBJECT_MAX:
        errors["subject"] = (
            f"The subject is too long: it has {len(subject):,} characters and the most is "
            f"{SUBJECT_MAX}."
        )
    if problem := reply_problem(typed["body"]):
        errors["body"] = problem
    if file is not None and len(file.data) > FILE_MAX:
        errors["attachment"] = (
            f"The file is {len(file.data) / (1024 * 1024):.1f} MB; a file can be at most 3 MB. "
            "Please choose a smaller one."
        )
    elif file is not None and not file.data:
        errors["attachment"] = "The file is empty. Please choose another."
    return errors


def _page(
    request: web.Request,
    options: dict[str, Any],
    *,
    typed: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    error: str | None = None,
    file_dropped: bool = False,
    status: int = 200,
) -> web.Response:
    here = office(request)
    if not options.get("can_start"):
        phone = f" Please call {here.phone}." if here.phone else " Please call the office."
        refusal: dict[str, Any] = {
            "title": "New message",
            "message": f"{here.name} does not take new messages through the portal.{phone} "
            "You can still answer the messages the office sends you.",
            "back": "/messages",
            "back_label": "Back to messages",
        }
        return render(request, "message.html", refusal, 403)
    topics = [t for t in options.get("topics", []) if isinstance(t, str)]
    context: dict[str, Any] = {
        "topics": topics,
        "typed": typed or {"topic": "", "subject": "", "body": ""},
        "errors": errors or {},
        "error": error,
        "labels": LABELS,
        "subject_max": SUBJECT_MAX,
        "body_max": f"{REPLY_MAX:,}",
        "file_max": "3 MB",
        "accept": ACCEPT,
        "file_dropped": file_dropped,
        "idem": new_idempotency_key(),
    }
    return render(request, "message_new.html", context, status)
