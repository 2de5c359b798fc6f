"""Signing in and out, and the pages behind the emailed links: activate, verify, reset, confirm.

Link pages never act on GET (mail scanners and link previews fetch every URL in an email):
GET shows a form or a button, POST does the thing.
"""

from __future__ import annotations

from typing import Any

import structlog
from aiohttp import web

from protocol.aio import RemoteError
from protocol.errors import ErrorCode
from proxy.agents import AgentUnavailable
from proxy.security import clear_session_cookie, session_token, set_session_cookie
from proxy.views.base import (
    HOME,
    TENANT,
    SignInAgain,
    call,
    office,
    render,
    safe_next,
    see_other,
)
from proxy.views.form_input import (
    Errors,
    birth_date,
    link_token,
    new_password,
    read_form,
    required,
    secret,
    text,
)
from proxy.views.wording import field_errors, friendly

log = structlog.get_logger("portico.proxy")

# Shown on the sign-in page after a redirect; only these keys, so the URL cannot inject text.
NOTICES = {
    "signed_out": "You have signed out.",
    "expired": "You were signed out. Please sign in again.",
    "required": "Please sign in first.",
    "activated": "Your account is ready. Sign in with your email or username and new password.",
    "activated_pending": (
        "Your account is set up. The office still has to turn on your access; "
        "you will get an email when it is ready."
    ),
    "verified": "Thank you, your email address is confirmed. You can sign in now.",
    "reset": "Your password is changed. Sign in with your new password.",
    "email_changed": "Your email address is changed. Please sign in again.",
}

SIGN_IN_FAILED = (
    "The sign-in details are not right, or this account cannot sign in just now. "
    "Check them and try again, or use \u201cForgot your password?\u201d below."
)
CHECK_EMAIL = (
    "If the details match an account, we have sent an email with a link. "
    "It may take a few minutes to arrive. Check your junk mail folder too."
)
# Every sign-up is answered by an email to the address given (a link, or "please call the
# office"), whoever signed up, so this is true in every case and says nothing about a chart.
SIGN_UP_SENT = (
    "We have sent an email to the address you gave. It tells you how to finish creating "
    "your account. It may take a few minutes to arrive. Check your junk mail folder too."
)
LINK_INVALID = "This link does not work any more. Please ask the office to send you a new one."
RESET_LINK_SPENT = (
    "A link to choose a new password works once, and only for a short time. "
    "Ask for a new link below, and use it soon after it arrives."
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


def _message(
    request: web.Request, title: str, text_: str, status: int = 200, **extra: Any
) -> web.Response:
    return render(request, "message.html", {"title": title, "message": text_, **extra}, status)


def _link_invalid(request: web.Request) -> web.Response:
    return _message(request, "This link does not work", LINK_INVALID, status=404)


async def _access_rules(request: web.Request) -> dict[str, Any]:
    """The office's account rules (self-registration, email or username) as the agent has
    them now: the pages ask for what the agent will require."""
    practice = await call(request, "practice.info", as_patient=False)
    rules: dict[str, Any] = practice.get("access") or {}
    return rules


async def _session_alive(request: web.Request) -> bool | None:
    """Whether the agent still accepts this browser's session; None when it cannot say."""
    if session_token(request) is None:
        return False
    try:
        await call(request, "access.session")
    except SignInAgain:
        return False
    except (AgentUnavailable, RemoteError):
        return None
    return True


async def index(request: web.Request) -> web.Response:
    return see_other(HOME if session_token(request) else "/sign-in")


async def sign_in_page(request: web.Request) -> web.Response:
    going = safe_next(request.query.get("next"))
    alive = await _session_alive(request)
    if alive:
        return see_other(going or HOME)
    if alive is False and session_token(request) is not None:
        # A session the agent ended: the same page again without it, so that it shows
        # signed out and its form is bound to no session.
        response = see_other(request.path_qs)
        clear_session_cookie(response)
        return response
    notice = NOTICES.get(request.query.get("notice", ""))
    return await _sign_in_form(request, notice=notice, next=going or "")


async def _sign_in_form(request: web.Request, status: int = 200, **context: Any) -> web.Response:
    try:
        self_registration = bool((await _access_rules(request)).get("self_registration"))
    except (AgentUnavailable, RemoteError):
        self_registration = False  # not known to be offered: no link to a form that refuses
    base = {"login": "", "next": "", "self_registration": self_registration}
    return render(request, "sign_in.html", {**base, **context}, status)


async def sign_in(request: web.Request) -> web.Response:
    form = await read_form(request)
    going = safe_next(form.get("next"))
    errors: Errors = {}
    login = required(form, errors, "login", "Enter your email address or username.", 320)
    password = secret(form, "password")
    if not password:
        errors["password"] = "Enter your password."
    if not errors:
        try:
            result = await call(
                request,
                "access.sign_in",
                {"login": login, "password": password},
                as_patient=False,
            )
        except RemoteError as exc:
            if exc.code not in (
                ErrorCode.UNAUTHENTICATED,
                ErrorCode.INVALID_PARAMS,
                ErrorCode.RATE_LIMITED,
            ):
                raise
            error = friendly(exc.code, office(request))
            if exc.code != ErrorCode.RATE_LIMITED:
                error = SIGN_IN_FAILED
            return await _sign_in_form(request, 401, error=error, login=login, next=going or "")
        response = see_other(going or HOME)
        set_session_cookie(response, result["session"])
        return response
    return await _sign_in_form(request, 422, errors=errors, login=login, next=going or "")


async def sign_out(request: web.Request) -> web.Response:
    if session_token(request) is not None:
        try:
            await call(request, "access.sign_out")
        except (SignInAgain, RemoteError):
            pass  # already dead, or the agent could not say: the cookie goes either way
        except AgentUnavailable:
            # The patient still leaves signed out here; the agent ends the session when it
            # has been idle for its timeout.
            log.warning("proxy.sign_out_not_sent", tenant=request[TENANT])
    response = see_other("/sign-in?notice=signed_out")
    clear_session_cookie(response)
    return response


# -- activation (from the invite email) -------------------------------------------------------


async def activate_page(request: web.Request) -> web.Response:
    token = link_token(request.query.get("token"))
    if token is None:
        return _link_invalid(request)
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
        rules = await _access_rules(request)
    base = {"errors": {}, "values": {}, "username_required": rules.get("identity") == "username"}
    return render(request, template, {**base, **context}, status)


async def activate(request: web.Request) -> web.Response:
    form = await read_form(request)
    token = link_token(form.get("token"))
    if token is None:
        return _link_invalid(request)
    errors: Errors = {}
    dob = birth_date(form, errors)
    zip_code = required(form, errors, "zip", "Enter your home zip code.", 16)
    username = text(form, "username", 64)
    password = new_password(form, errors)
    values = {k: text(form, k, 64) for k in ("dob_month", "dob_day", "dob_year", "zip")}
    values["username"] = username
    context = {"token": token, "values": values}
    if errors:
        return await _account_form(request, "activate.html", 422, **context, errors=errors)
    params = {"token": token, "date_of_birth": dob, "zip": zip_code, "password": password}
    if username:
        params["username"] = username
    try:
        result = await call(request, "access.activate", params, as_patient=False)
    except RemoteError as exc:
        if exc.code == ErrorCode.NOT_FOUND:
            return _link_invalid(request)
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
    return _message(request, "Please call the office", message, status=403)


async def register_page(request: web.Request) -> web.Response:
    rules = await _access_rules(request)
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
    names = ("first_name", "last_name", "dob_month", "dob_day", "dob_year", "zip", "email")
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
            context = {"errors": errors, "values": values, "error": error}
            return await _account_form(request, "register.html", 422, **context)
        raise
    return _message(request, "Check your email", SIGN_UP_SENT)


# -- email verification, password reset, email change -----------------------------------------


async def verify_page(request: web.Request) -> web.Response:
    token = link_token(request.query.get("token"))
    if token is None:
        return _link_invalid(request)
    context = {
        "title": "Confirm your email address",
        "intro": "Press the button to confirm this is your email address.",
        "action": "/verify",
        "button": "Confirm my email address",
        "token": token,
    }
    return render(request, "confirm_link.html", context)


async def _redeem_link(request: web.Request, method: str) -> web.Response | None:
    """The confirm button of a one-time link: None once the agent used the token up, else
    the invalid-link page."""
    token = link_token((await read_form(request)).get("token"))
    if token is None:
        return _link_invalid(request)
    try:
        await call(request, method, {"token": token}, as_patient=False)
    except RemoteError as exc:
        if exc.code == ErrorCode.NOT_FOUND:
            return _link_invalid(request)
        raise
    return None


async def verify(request: web.Request) -> web.Response:
    try:
        refused = await _redeem_link(request, "access.verify_email")
    except RemoteError as exc:
        if exc.code != ErrorCode.FORBIDDEN:
            raise
        # The agent could not match the sign-up to the office's records safely.
        phone = office(request).phone
        message = f"We could not finish setting up your account online. Please call {phone}."
        return _message(request, "Please call the office", message, status=403)
    if refused is not None:
        return refused
    return see_other("/sign-in?notice=verified")


async def forgot_page(request: web.Request) -> web.Response:
    return render(request, "forgot.html", {"errors": {}, "login": ""})


async def forgot(request: web.Request) -> web.Response:
    form = await read_form(request)
    errors: Errors = {}
    login = required(form, errors, "login", "Enter your email address or username.", 320)
    if errors:
        return render(request, "forgot.html", {"errors": errors, "login": login}, 422)
    try:
        await call(request, "access.forgot_password", {"login": login}, as_patient=False)
    except RemoteError as exc:
        if exc.code != ErrorCode.INVALID_PARAMS:
            raise
        # Same answer as for an unknown account: the page must not tell them apart.
    return _message(request, "Check your email", CHECK_EMAIL)


async def reset_page(request: web.Request) -> web.Response:
    token = link_token(request.query.get("token"))
    if token is None:
        return _link_invalid(request)
    try:
        # Only asks: the link stays usable, so a mail scanner's GET cannot spend it.
        await call(request, "access.reset_link", {"token": token}, as_patient=False)
    except RemoteError as exc:
        if exc.code != ErrorCode.NOT_FOUND:
            raise
        return _reset_link_spent(request)
    except AgentUnavailable:
        pass  # the form shows; saving it says that the office cannot be reached
    return render(request, "reset.html", {"token": token, "errors": {}})


def _reset_link_spent(request: web.Request) -> web.Response:
    return _message(
        request,
        "This link was already used or has expired",
        RESET_LINK_SPENT,
        status=404,
        back="/forgot",
        back_label="Ask for a new link",
    )


async def reset(request: web.Request) -> web.Response:
    form = await read_form(request)
    token = link_token(form.get("token"))
    if token is None:
        return _link_invalid(request)
    errors: Errors = {}
    password = new_password(form, errors)
    if errors:
        return render(request, "reset.html", {"token": token, "errors": errors}, 422)
    try:
        await call(
            request,
            "access.reset_password",
            {"token": token, "password": password},
            as_patient=False,
        )
    except RemoteError as exc:
        if exc.code == ErrorCode.NOT_FOUND:
            return _reset_link_spent(request)
        if exc.code == ErrorCode.INVALID_PARAMS:
            errors = field_errors(exc, {"password": "password"})
            error = None if errors else friendly(exc.code, office(request))
            return render(
                request, "reset.html", {"token": token, "errors": errors, "error": error}, 422
            )
        raise
    response = see_other("/sign-in?notice=reset")
    clear_session_cookie(response)  # the agent ended every session of the account
    return response


async def confirm_email_page(request: web.Request) -> web.Response:
    token = link_token(request.query.get("token"))
    if token is None:
        return _link_invalid(request)
    context = {
        "title": "Confirm your new email address",
        "intro": "Press the button to use this email address for your patient portal account.",
        "action": "/confirm-email",
        "button": "Use this email address",
        "token": token,
    }
    return render(request, "confirm_link.html", context)


async def confirm_email(request: web.Request) -> web.Response:
    refused = await _redeem_link(request, "access.confirm_email_change")
    if refused is not None:
        return refused
    response = see_other("/sign-in?notice=email_changed")
    clear_session_cookie(response)  # every session of the account has ended
    return response
