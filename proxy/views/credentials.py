"""A forgotten password (ask for a link, then choose a new one) and confirming a new email
address (the link proxy/views/account.py's change sends), both from an emailed link.

Either change ends every session of the account, so both send the patient to sign in again.
"""

from __future__ import annotations

from aiohttp import web

from protocol.aio import RemoteError
from protocol.errors import ErrorCode
from proxy.agents import AgentUnavailable
from proxy.security import clear_session_cookie
from proxy.views.access import link_invalid, message_page, redeem_link
from proxy.views.base import call, office, render, see_other
from proxy.views.form_input import Errors, link_token, new_password, read_form, required
from proxy.views.wording import field_errors, friendly

CHECK_EMAIL = (
    "If the details match an account, we have sent an email with a link. "
    "It may take a few minutes to arrive. Check your junk mail folder too."
)
RESET_LINK_SPENT = (
    "A link to choose a new password works once, and only for a short time. "
    "Ask for a new link below, and use it soon after it arrives."
)


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
    return message_page(request, "Check your email", CHECK_EMAIL)


async def reset_page(request: web.Request) -> web.Response:
    token = link_token(request.query.get("token"))
    if token is None:
        return link_invalid(request)
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
    return message_page(
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
        return link_invalid(request)
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
                request,
                "reset.html",
                {"token": token, "errors": errors, "error": error},
                422,
            )
        raise
    response = see_other("/sign-in?notice=reset")
    clear_session_cookie(response)  # the agent ended every session of the account
    return response


async def confirm_email_page(request: web.Request) -> web.Response:
    token = link_token(request.query.get("token"))
    if token is None:
        return link_invalid(request)
    context = {
        "title": "Confirm your new email address",
        "intro": "Press the button to use this email address for your patient portal account.",
        "action": "/confirm-email",
        "button": "Use this email address",
        "token": token,
    }
    return render(request, "confirm_link.html", context)


async def confirm_email(request: web.Request) -> web.Response:
    refused = await redeem_link(request, "access.confirm_email_change")
    if refused is not None:
        return refused
    response = see_other("/sign-in?notice=email_changed")
    clear_session_cookie(response)  # every session of the account has ended
    return response
