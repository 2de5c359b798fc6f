"""The link methods of agent.access: `access.*` (docs/protocol.md).

The AccessService is built by agent/wiring.py and passed in, not built here: the session
callers, the outbox worker and a reload (which replaces its rules in place) all share it.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from agent.access.service import AccessService
from agent.caller import Caller
from agent.rpc import Day, DomainContext, MethodTable, NoParams, Params, client_ip
from protocol.aio import Request


class SessionCallers:
    """Sessions are the only way to act as a patient: the proxy carries the opaque token.
    The rpc.CallerResolver every other domain package asks who is calling."""

    def __init__(self, access: AccessService) -> None:
        self.access = access

    async def caller_for(self, request: Request) -> Caller:
        return await self.access.sessions.resolve_session(request.session, client_ip(request))


Token = Annotated[str, Field(min_length=1, max_length=128)]
Secret = Annotated[str, Field(max_length=100_000)]  # policy, not the parser, judges length
ShortText = Annotated[str, Field(min_length=1, max_length=100)]
Zip = Annotated[str, Field(min_length=1, max_length=16)]
Login = Annotated[str, Field(min_length=1, max_length=320)]


class ActivateParams(Params):
    token: Token
    date_of_birth: Day
    zip: Zip
    password: Secret
    username: Annotated[str, Field(max_length=64)] | None = None


class RegisterParams(Params):
    first_name: ShortText
    last_name: ShortText
    date_of_birth: Day
    zip: Zip
    email: Login
    password: Secret
    username: Annotated[str, Field(max_length=64)] | None = None


class TokenParams(Params):
    token: Token


class SignInParams(Params):
    login: Login
    password: Secret


class ForgotParams(Params):
    login: Login


class ResetParams(Params):
    token: Token
    password: Secret


class ChangePasswordParams(Params):
    current_password: Secret
    new_password: Secret


class ChangeEmailParams(Params):
    password: Secret
    new_email: Login


def link_methods(context: DomainContext, access: AccessService) -> MethodTable:
    callers = context.callers

    async def activate(request: Request, params: ActivateParams) -> Any:
        return await access.enrolment.activate(
            params.token,
            params.date_of_birth,
            params.zip,
            params.password,
            params.username,
            client_ip(request),
        )

    async def register(request: Request, params: RegisterParams) -> Any:
        return await access.registrations.register(
            first_name=params.first_name,
            last_name=params.last_name,
            date_of_birth=params.date_of_birth,
            zip_code=params.zip,
            email=params.email,
            password=params.password,
            username=params.username,
            client_ip=client_ip(request),
        )

    async def verify_email(request: Request, params: TokenParams) -> Any:
        return await access.registrations.verify_email(params.token, client_ip(request))

    async def sign_in(request: Request, params: SignInParams) -> Any:
        return await access.sessions.sign_in(params.login, params.password, client_ip(request))

    async def sign_out(request: Request, params: NoParams) -> Any:
        return await access.sessions.sign_out(request.session, client_ip(request))

    async def session(request: Request, params: NoParams) -> Any:
        # The proxy asks before every signed-in page, so a disabled or ended session shows
        # nothing even on a page whose own calls need no session (the booking steps).
        await callers.caller_for(request)
        return {"signed_in": True}

    async def account(request: Request, params: NoParams) -> Any:
        return await access.credentials.account_info(await callers.caller_for(request))

    async def forgot_password(request: Request, params: ForgotParams) -> Any:
        return await access.credentials.forgot_password(params.login, client_ip(request))

    async def reset_link(request: Request, params: TokenParams) -> Any:
        return await access.credentials.reset_link(params.token)

    async def reset_password(request: Request, params: ResetParams) -> Any:
        return await access.credentials.reset_password(
            params.token, params.password, client_ip(request)
        )

    async def change_password(request: Request, params: ChangePasswordParams) -> Any:
        return await access.credentials.change_password(
            await callers.caller_for(request), params.current_password, params.new_password
        )

    async def change_email(request: Request, params: ChangeEmailParams) -> Any:
        return await access.credentials.change_email(
            await callers.caller_for(request), params.password, params.new_email
        )

    async def confirm_email_change(request: Request, params: TokenParams) -> Any:
        return await access.credentials.confirm_email_change(params.token, client_ip(request))

    return {
        "access.activate": (ActivateParams, activate),
        "access.register": (RegisterParams, register),
        "access.verify_email": (TokenParams, verify_email),
        "access.sign_in": (SignInParams, sign_in),
        "access.sign_out": (NoParams, sign_out),
        "access.session": (NoParams, session),
        "access.account": (NoParams, account),
        "access.forgot_password": (ForgotParams, forgot_password),
        "access.reset_link": (TokenParams, reset_link),
        "access.reset_password": (ResetParams, reset_password),
        "access.change_password": (ChangePasswordParams, change_password),
        "access.change_email": (ChangeEmailParams, change_email),
        "access.confirm_email_change": (TokenParams, confirm_email_change),
    }
