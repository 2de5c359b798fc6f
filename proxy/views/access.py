"""Signing in and out, and what every signed-out access page shares.

The other signed-out pages: proxy/views/enrolment.py (activating an invited account, signing
up, confirming the sign-up's email) and proxy/views/credentials.py (a forgotten password, a
new email address). Link pages never act on GET (mail scanners and link previews fetch every
URL in an email): GET shows a form or a button, POST does the thing.
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
from proxy.views.form_input import Errors, link_token, read_form, required, secret
from proxy.views.wording import friendly

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
LINK_INVALID = "This link does not work any more. Please ask the office to send you a new one."


def message_page(
    request: web.Request, title: str, text_: str, status: int = 200, **extra: Any
) -> web.Response:
    """A page of plain words (message.html): a confirmation, or why something cannot be done."""
    return render(request, "message.html", {"title": title, "message": text_, **extra}, status)


def link_invalid(request: web.Request) -> web.Response:
    """The answer to an emailed link whose token is malformed, used up or unknown."""
    return message_page(request, "This link does not work", LINK_INVALID, status=404)


async def access_rules(request: web.Request) -> dict[str, Any]:
    """The office's account rules (self-registration, email or username) as the agent has
    them now: the pages ask for what the agent will require."""
    practice = await call(request, "practice.info", as_patient=False)
    rules: dict[str, Any] = practice.get("access") or {}
    return rules


async def redeem_link(request: web.Request, method: str) -> web.Response | None:
    """The confirm button of a one-time link: None once the agent used the token up, else
    the invalid-link page."""
    token = link_token((await read_form(request)).get("token"))
    if token is None:
        return link_invalid(request)
    try:
        await call(request, method, {"token": token}, as_patient=False)
    except RemoteError as exc:
        if exc.code == ErrorCode.NOT_FOUND:
            return link_invalid(request)
        raise
    return None


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
        self_registration = bool((await access_rules(request)).get("self_registration"))
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
