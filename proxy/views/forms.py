"""Forms the office asked the patient to fill in: the list, filling one in, saving, sending.

Each field is drawn with the browser's own control for its type (docs/protocol.md, "Field
types of a form"), so it works without JavaScript and with any assistive technology. Answers
go to the agent as typed; only sending validates, and the agent's per-field complaints
(`answers.<name>: what to fix`) are shown next to their fields with the typed answers kept.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from multidict import MultiDictProxy

from protocol.aio import RemoteError
from protocol.errors import ErrorCode
from proxy.views.base import call, office, render, see_other
from proxy.views.form_input import idempotency_key, new_idempotency_key, path_id, read_form
from proxy.views.times import calendar_date, long_date, parse_instant
from proxy.views.wording import field_errors, friendly

LIST_NOTICES = {"sent": "Thank you - your form was sent."}
FORM_NOTICES = {"saved": "Your answers are saved. You can come back and finish later."}
ANSWER_PREFIX = "answer."  # form field names: "answer.<the agent's field name>"
# Fields whose answer is a list of choices; every other type is one string.
_LISTS = frozenset({"multiple_choice"})
# A date is typed into three boxes (proxy/templates/_forms.html date_parts), named
# "answer.<name>.month" and so on; an agent field name has no ".", so these cannot collide.
_DATE_PARTS = ("year", "month", "day")
_YES_NO = [{"value": "yes", "label": "Yes"}, {"value": "no", "label": "No"}]


# -- the list ---------------------------------------------------------------------------------


def status_words(item: dict[str, Any]) -> str:
    status = item.get("status")
    if status == "submitted":
        sent = parse_instant(item.get("local_submitted") or item.get("submitted_at") or "")
        return f"Sent on {long_date(sent.date())}" if sent else "Sent"
    return "Draft saved" if status == "draft" else "To do"


async def forms_page(request: web.Request) -> web.Response:
    listing = await call(request, "forms.list")
    forms = [
        {
            "id": item["assignment_id"],
            "title": item.get("title") or "Form",
            "status": status_words(item),
            "done": item.get("status") == "submitted",
        }
        for item in listing["forms"]
    ]
    context = {"forms": forms, "notice": LIST_NOTICES.get(request.query.get("notice", ""))}
    return render(request, "forms_list.html", context)


# -- one form ---------------------------------------------------------------------------------


def _field(index: int, spec: dict[str, Any], answer: Any) -> dict[str, Any]:
    """One field as the template draws it. `id` is ours (the agent's names need not be valid
    HTML ids); the input's `name` carries the agent's name back."""
    kind = spec.get("type", "text")
    choices = _YES_NO if kind == "yes_no" else spec.get("choices") or []
    if kind in _LISTS:
        chosen = [a for a in answer if isinstance(a, str)] if isinstance(answer, list) else []
        value = ""
    else:
        chosen = []
        value = answer if isinstance(answer, str) else ""
    return {
        "id": f"q{index}",
        "name": ANSWER_PREFIX + spec["name"],
        "label": spec.get("label") or spec["name"],
        "type": kind,
        "required": bool(spec.get("required")),
        "hint": _hint(kind, spec),
        "max_length": spec.get("max_length") or 0,
        "choices": choices,
        "value": value,
        "chosen": chosen,
        "shown": _shown_answer(kind, choices, value, chosen),
        "date_names": {part: f"{ANSWER_PREFIX}{spec['name']}.{part}" for part in _DATE_PARTS},
        "date_parts": split_date(value),
    }


def split_date(value: str) -> dict[str, str]:
    """An answer as stored (YYYY-MM-DD, or a draft's incomplete "1950--27") back into its boxes."""
    parts = value.split("-")
    if len(parts) != len(_DATE_PARTS):
        return {}
    return dict(zip(_DATE_PARTS, parts, strict=True))


def join_date(form: MultiDictProxy[Any], key: str) -> str:
    """The three boxes as the agent's YYYY-MM-DD. Nothing typed is no answer; a box left
    empty or a year of two digits is kept as typed, for the agent to refuse on sending and
    for a draft to show again. A dash typed into a box would shift the parts, so it goes."""
    typed = {}
    for part in _DATE_PARTS:
        value = form.get(f"{key}.{part}", "")
        typed[part] = value.strip().replace("-", "") if isinstance(value, str) else ""
    if not any(typed.values()):
        return ""
    month, day = (
        v.zfill(2) if v.isdigit() and len(v) == 1 else v for v in (typed["month"], typed["day"])
    )
    return f"{typed['year']}-{month}-{day}"


def _hint(kind: str, spec: dict[str, Any]) -> str:
    """The office's help text, plus what a number or date has to look like."""
    help_text = spec.get("help") or ""
    parts = [help_text, _range_hint(spec) if kind == "number" else ""]
    # A date's format is said by its boxes (proxy/templates/_forms.html date_parts).
    if kind in _LISTS and not help_text:
        parts.append("Choose all that apply.")
    return " ".join(part for part in parts if part)


def _number(value: object) -> str | None:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # 300.0 from YAML reads as "300"
    return None if value is None else str(value)


def _range_hint(spec: dict[str, Any]) -> str:
    low, high = _number(spec.get("min")), _number(spec.get("max"))
    if low is not None and high is not None:
        return f"A number from {low} to {high}."
    if low is not None:
        return f"A number of at least {low}."
    if high is not None:
        return f"A number of at most {high}."
    return ""


def _shown_answer(kind: str, choices: list[dict[str, Any]], value: str, chosen: list[str]) -> str:
    """A sent answer in words: choices by their labels, dates spelled out."""
    labels = {c.get("value"): c.get("label") or c.get("value") for c in choices}
    if kind in _LISTS:
        return ", ".join(str(labels.get(v, v)) for v in chosen)
    if choices:
        return str(labels.get(value, value))
    if kind == "date":
        return calendar_date(value)
    return value


def read_answers(form: MultiDictProxy[Any], specs: list[dict[str, Any]]) -> dict[str, Any]:
    """Every field's answer as the patient left it: an emptied box is sent as empty, so a
    draft forgets what the patient deleted."""
    answers: dict[str, Any] = {}
    for spec in specs:
        key = ANSWER_PREFIX + spec["name"]
        if spec.get("type") in _LISTS:
            answers[spec["name"]] = [v for v in form.getall(key, []) if isinstance(v, str)]
        elif spec.get("type") == "date" and f"{key}.year" in form:
            answers[spec["name"]] = join_date(form, key)
        else:  # a date from a page drawn before the three boxes came in has one box
            value = form.get(key, "")
            answers[spec["name"]] = value.replace("\r\n", "\n") if isinstance(value, str) else ""
    return answers


def _form_page(
    request: web.Request,
    assignment: dict[str, Any],
    answers: dict[str, Any],
    *,
    errors: dict[str, str] | None = None,
    error: str | None = None,
    status: int = 200,
) -> web.Response:
    fields = [
        _field(index, spec, answers.get(spec["name"]))
        for index, spec in enumerate(assignment["fields"], start=1)
    ]
    context = {
        "form": {
            "id": assignment["assignment_id"],
            "title": assignment.get("title") or "Form",
            "description": assignment.get("description") or "",
            "submitted": assignment.get("status") == "submitted",
        },
        "fields": fields,
        "labels": {
            f"q{index}": spec["label"] for index, spec in enumerate(assignment["fields"], 1)
        },
        "errors": errors or {},
        "error": error,
        "idem": new_idempotency_key(),
        "notice": FORM_NOTICES.get(request.query.get("notice", "")),
    }
    return render(request, "form_fill.html", context, status)


async def form_page(request: web.Request) -> web.Response:
    found = await call(request, "forms.get", {"assignment_id": path_id(request, "assignment_id")})
    return _form_page(request, found, found.get("answers") or {})


async def save_form(request: web.Request) -> web.Response:
    wanted = path_id(request, "assignment_id")
    form = await read_form(request)
    # The field list says which answers to read and how; it is also the page shown on errors.
    found = await call(request, "forms.get", {"assignment_id": wanted})
    answers = read_answers(form, found["fields"])
    submit = form.get("action") == "submit"
    params = {"assignment_id": wanted, "answers": answers, "submit": submit}
    try:
        await call(
            request,
            "forms.save",
            params,
            idempotency_key=idempotency_key(form) or new_idempotency_key(),
        )
    except RemoteError as exc:
        if exc.code == ErrorCode.FORBIDDEN:
            # Sent before. The same button pressed twice carries the same key and is
            # answered like the first press instead, so this is a different, later attempt.
            return _already_sent(request)
        if exc.code != ErrorCode.INVALID_PARAMS:
            raise  # not_found: the 404 page; unavailable: the 503 page
        return _refused(request, found, answers, exc)
    if submit:
        return see_other("/forms?notice=sent")
    return see_other(f"/forms/{wanted}?notice=saved")


def _refused(
    request: web.Request, found: dict[str, Any], answers: dict[str, Any], exc: RemoteError
) -> web.Response:
    """The form again with what the patient typed, each complaint next to its field."""
    ids = {
        f"answers.{spec['name']}": f"q{index}"
        for index, spec in enumerate(found["fields"], start=1)
    }
    errors = field_errors(exc, ids)
    error = None if errors else friendly(exc.code, office(request))
    return _form_page(request, found, answers, errors=errors, error=error, status=422)


def _already_sent(request: web.Request) -> web.Response:
    phone = office(request).phone
    context = {
        "title": "This form was already sent",
        "message": f"You sent this form already. To change an answer, please call {phone}.",
        "back": "/forms",
        "back_label": "Back to my forms",
    }
    return render(request, "message.html", context, 409)
