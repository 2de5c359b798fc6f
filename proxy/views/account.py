"""The account page: who is signed in, and changing the password or the email address."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from protocol.aio import RemoteError
from protocol.errors import ErrorCode
from proxy.security import set_session_cookie
from proxy.views.base import call, office, render, see_other
from proxy.views.form_input import Errors, new_password, read_form, required, secret
from proxy.views.wording import field_errors, friendly

NOTICES = {
    "password_changed": (
        "Your password is changed. Anywhere else you were signed in has been signed out."
    ),
    # The agent tells the current address when the change happens (agent/access/credentials.py
    # _apply_email), not when it is asked for: nothing is sent there yet.
    "email_sent": (
        "We sent a link to the new address. Your email address changes when you open that "
        "link, and then we will let your current address know about the change."
    ),
}


async def _page(request: web.Request, status: int = 200, **context: Any) -> web.Response:
    account = await call(request, "access.account")
    base = {
        "account": account,
        "password_errors": {},
        "email_errors": {},
        "password_error": None,
        "email_error": None,
        "new_email": "",
        "notice": NOTICES.get(request.query.get("notice", "")),
    }
    return render(request, "account.html", {**base, **context}, status)


async def account_page(request: web.Request) -> web.Response:
    return await _page(request)


async def change_password(request: web.Request) -> web.Response:
    form = await read_form(request)
    errors: Errors = {}
    current = secret(form, "current_password")
    if not current:
        errors["current_password"] = "Enter your current password."
    new = new_password(form, errors, "new_password")
    if not errors:
        try:
            result = await call(
                request,
                "access.change_password",
                {"current_password": current, "new_password": new},
            )
        except RemoteError as exc:
            if exc.code == ErrorCode.FORBIDDEN:
                errors["current_password"] = "That is not your current password."
            elif exc.code == ErrorCode.INVALID_PARAMS:
                errors = field_errors(
                    exc, {"new_password": "new_password", "current_password": "current_password"}
                )
                if not errors:
                    return await _page(
                        request, 422, password_error=friendly(exc.code, office(request))
                    )
            else:
                raise
        else:
            # The agent ended every session, this one included, and handed out a new one.
            response = see_other("/account?notice=password_changed")
            set_session_cookie(response, result["session"])
            return response
    return await _page(request, 422, password_errors=errors)


async def change_email(request: web.Request) -> web.Response:
    form = await read_form(request)
    errors: Errors = {}
    new_email = required(form, errors, "new_email", "Enter your new email address.", 320)
    password = secret(form, "email_password")
    if not password:
        errors["email_password"] = "Enter your password."
    if not errors:
        try:
            await call(
                request, "access.change_email", {"password": password, "new_email": new_email}
            )
        except RemoteError as exc:
            if exc.code == ErrorCode.FORBIDDEN:
                errors["email_password"] = "That is not your password."
            elif exc.code == ErrorCode.INVALID_PARAMS:
                errors = field_errors(exc, {"new_email": "new_email", "password": "email_password"})
                if not errors:
                    return await _page(
                        request,
                        422,
                        new_email=new_email,
                        email_error=friendly(exc.code, office(request)),
                    )
            else:
                raise
        else:
            return see_other("/account?notice=email_sent")
    return await _page(request, 422, email_errors=errors, new_email=new_email)
