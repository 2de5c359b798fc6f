"""Becoming a portal user: activating an invited account (the invite email's link), signing
up without an invite where the office allows it, and confirming a sign-up's email address.

Both account forms ask for a username exactly when the office's rules (the agent's
`access.identity`) require one.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from protocol.aio import RemoteError
from protocol.errors import ErrorCode
from proxy.views.access import access_rules, link_invalid, message_page, redeem_link
from proxy.views.base import call, office, render, see_other
from proxy.views.form_input import (
    Errors,
    birth_date,
    link_token,
    new_password,
    read_form,
    required,
    text,
)
from proxy.views.wording import field_errors, friendly

# Every sign-up is answered by an email to the address given (a link, or "please call the
# office"), whoever signed up, so this is true in every case and says nothing about a chart.
SIGN_UP_SENT = (
    "We have sent an email to the address you gave. It tells you how to finish creating "
    "your account. It may take a few minutes to arrive. Check your junk mail folder too."
)
_ACCOUNT_FIELDS = {
    "password": "password",
    "username": "username",
    "zip": "zip",
    "date_of_birth": "dob",
    "email": "email",
    "first_name": "first_name",
    "last_name": "last_name",
}


# -- activation (from the invite email) -------------------------------------------------------


async def activate_page(request: web.Request) -> web.Response:
    token = link_token(request.query.get("token"))
    if token is None:
        return link_invalid(request)
    return await _account_form(request, "activate.html", token=token)


async def _account_form(
    request: web.Request,
    template: str,
    status: int = 200,
    *,
    rules: dict[str, Any] | None = None,
    **context: Any,
) -> web.Response:
    """The activation or sign-up form, asking for a username exactly when the agent's
    `access.identity` makes one required (`rules`: already fetched by the caller)."""
    if rules is None:
        rules = await access_rules(request)
    base: dict[str, Any] = {
        "errors": {},
        "values": {},
        "username_required": rules.get("identity") == "username",
    }
    return render(request, template, {**base, **context}, status)


async def activate(request: web.Request) -> web.Response:
    form = await read_form(request)
    token = link_token(form.get("token"))
    if token is None:
        return link_invalid(request)
    errors: Errors = {}
    dob = birth_date(form, errors)
    zip_code = required(form, errors, "zip", "Enter your home zip code.", 16)
    username = text(form, "username", 64)
    password = new_password(form, errors)
    values = {k: text(form, k, 64) for k in ("dob_month", "dob_day", "dob_year", "zip")}
    values["username"] = username
    context: dict[str, Any] = {"token": token, "values": values}
    if errors:
        return await _account_form(request, "activate.html", 422, **context, errors=errors)
    params = {
        "token": token,
        "date_of_birth": dob,
        "zip": zip_code,
        "password": password,
    }
    if username:
        params["username"] = username
    try:
        result = await call(request, "access.activate", params, as_patient=False)
    except RemoteError as exc:
        if exc.code == ErrorCode.NOT_FOUND:
            return link_invalid(request)
        if exc.code == ErrorCode.FORBIDDEN:
            mismatch = "The date of birth or zip code does not match the office's records."
            return await _account_form(request, "activate.html", 403, **context, error=mismatch)
        if exc.code == ErrorCode.INVALID_PARAMS:
            errors = field_errors(exc, _ACCOUNT_FIELDS)
            general = None if errors else friendly(exc.code, office(request))
            return await _account_form(
                request, "activate.html", 422, **context, errors=errors, error=general
            )
        raise
    notice = "activated" if result.get("access_enabled") else "activated_pending"
    return see_other(f"/sign-in?notice={notice}")


# -- self-registration -----------------------------------------------------------------------


def _registration_closed(request: web.Request) -> web.Response:
    phone = office(request).phone
    message = f"This office does not take sign-ups online. Please call {phone}."
    return message_page(request, "Please call the office", message, status=403)


async def register_page(request: web.Request) -> web.Response:
    rules = await access_rules(request)
    if not rules.get("self_registration"):
        return _registration_closed(request)  # at once, not after ten boxes filled in
    return await _account_form(request, "register.html", rules=rules)


async def register(request: web.Request) -> web.Response:
    form = await read_form(request)
    errors: Errors = {}
    first = required(form, errors, "first_name", "Enter your first name.", 100)
    last = required(form, errors, "last_name", "Enter your last name.", 100)
    dob = birth_date(form, errors)
    zip_code = required(form, errors, "zip", "Enter your home zip code.", 16)
    email = required(form, errors, "email", "Enter your email address.", 320)
    username = text(form, "username", 64)
    password = new_password(form, errors)
    names = (
        "first_name",
        "last_name",
        "dob_month",
        "dob_day",
        "dob_year",
        "zip",
        "email",
    )
    values = {k: text(form, k, 320) for k in names}
    values["username"] = username
    if errors:
        return await _account_form(request, "register.html", 422, errors=errors, values=values)
    params = {
        "first_name": first,
        "last_name": last,
        "date_of_birth": dob,
        "zip": zip_code,
        "email": email,
        "password": password,
    }
    if username:
        params["username"] = username
    try:
        await call(request, "access.register", params, as_patient=False)
    except RemoteError as exc:
        if exc.code == ErrorCode.FORBIDDEN:
            return _registration_closed(request)
        if exc.code == ErrorCode.INVALID_PARAMS:
            errors = field_errors(exc, _ACCOUNT_FIELDS)
            error = None if errors else friendly(exc.code, office(request))
            context: dict[str, Any] = {
                "errors": errors,
                "values": values,
                "error": error,
            }
            return await _account_form(request, "register.html", 422, **context)
        raise
    return message_page(request, "Check your email", SIGN_UP_SENT)


# -- the sign-up's email address ----------------------------------------------------------------


async def verify_page(request: web.Request) -> web.Response:
    token = link_token(request.query.get("token"))
    if token is None:
        return link_invalid(request)
    context = {
        "title": "Confirm your email address",
        "intro": "Press the button to confirm this is your email address.",
        "action": "/verify",
        "button": "Confirm my email address",
        "token": token,
    }
    return render(request, "confirm_link.html", context)


async def verify(request: web.Request) -> web.Response:
    try:
        refused = await redeem_link(request, "access.verify_email")
    except RemoteError as exc:
        if exc.code != ErrorCode.FORBIDDEN:
            raise
        # The agent could not match the sign-up to the office's records safely.
        phone = office(request).phone
        message = f"We could not finish setting up your account online. Please call {phone}."
        return message_page(request, "Please call the office", message, status=403)
    if refused is not None:
        return refused
    return see_other("/sign-in?notice=verified")
