"""What every page handler shares: typed app and request state, rendering, calling the agent.

Handlers stay short: read the form or query, `await call(...)`, `render(...)` or redirect.
Anything a handler does not deal with itself (the agent being down, a dead session, an
unexpected error) is raised and turned into a page by the error middleware in
proxy/middlewares.py.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from ipaddress import IPv4Network, IPv6Network
from typing import Any
from urllib.parse import urlencode, urlsplit

import aiohttp_jinja2
from aiohttp import web

from protocol.aio import RemoteError
from protocol.errors import ErrorCode
from proxy.agents import AgentConnections
from proxy.ratelimit import RateLimiter
from proxy.reload import RunningConfig
from proxy.security import csrf_token, pre_session_token, session_token

# The config in effect is `request.app[CONFIG].current`: a reload replaces it (proxy/reload.py).
CONFIG = web.AppKey("portico_config", RunningConfig)
AGENTS = web.AppKey("portico_agents", AgentConnections)
SECRET = web.AppKey("portico_secret", bytes)
# "https" unless the proxy serves plain HTTP itself with nothing in front (the localhost demo).
SCHEME = web.AppKey("portico_scheme", str)
TRUSTED_PROXIES = web.AppKey("portico_trusted_proxies", tuple[IPv4Network | IPv6Network, ...])
# Rate-limited action ("sign_in", "forgot") -> its limiter; views.RATE_LIMITED maps routes.
RATE_LIMITS = web.AppKey("portico_rate_limits", dict[str, RateLimiter])

TENANT = web.RequestKey("portico_tenant", str)
CLIENT = web.RequestKey("portico_client", dict[str, Any])
NEW_PRE_SESSION = web.RequestKey("portico_new_pre_session", str)
# A signed-in GET's session check (proxy/views/header.py), sent in the same link write as the
# handler's own requests: `call` hands the handler no answer before it has passed.
SESSION_CHECK = web.RequestKey("portico_session_check", asyncio.Task[None])

DEADLINE_SECONDS = 10.0
# The routes (proxy/views/__init__.py) anyone may open. Every other route is a signed-in page,
# whose session proxy/views/header.py has the agent check before the handler runs: a new page
# is signed-in unless it is added here.
SIGNED_OUT_ROUTES = frozenset(
    {
        "index",
        "sign_in_page",
        "sign_in",
        "sign_out",
        "activate_page",
        "activate",
        "register_page",
        "register",
        "verify_page",
        "verify",
        "forgot_page",
        "forgot",
        "reset_page",
        "reset",
        "confirm_email_page",
        "confirm_email",
        "static",
        "healthz",
    }
)
# Where a patient lands after signing in when she was not on her way to a page.
HOME = "/appointments"
_NEXT_MAX = 2000


class SignInAgain(Exception):
    """The session is missing, expired or revoked: clear the cookie, go to the sign-in page.

    `notice` picks the sign-in page's explanation: "required" (never signed in) or "expired"."""

    def __init__(self, notice: str = "expired") -> None:
        super().__init__(notice)
        self.notice = notice


class CsrfRefused(Exception):
    """A state-changing request without this site's Origin or a valid CSRF token."""


class TooManyAttempts(Exception):
    """The client's address is over the rate limit for this form."""


@dataclass(frozen=True, slots=True)
class Office:
    name: str
    phone: str

    @property
    def phone_href(self) -> str:
        return "tel:" + re.sub(r"[^0-9+]", "", self.phone)


def office(request: web.Request) -> Office:
    """The office's name and phone for the header: the registry first (it is there even when
    the agent is not), then what the agent said in its last WELCOME."""
    tenant = request[TENANT]
    entry = request.app[CONFIG].current.tenants.get(tenant)
    name = entry.name if entry is not None else None
    phone = entry.phone if entry is not None else None
    if not name or not phone:
        practice = request.app[AGENTS].practice(tenant) or {}
        name = name or practice.get("name")
        phone = phone or practice.get("phone")
    return Office(name=name or "Your doctor's office", phone=phone or "")


def signed_in(request: web.Request) -> bool:
    return session_token(request) is not None


def csrf_for(request: web.Request) -> str:
    """The token this page's forms carry: bound to the session, or before sign-in to the
    pre-session cookie (set on this very response when the browser had none)."""
    bound = session_token(request) or pre_session_token(request) or request.get(NEW_PRE_SESSION)
    if bound is None:  # a POST re-rendering a form for a browser without cookies
        return ""
    return csrf_token(request.app[SECRET], request[TENANT], bound)


def render(
    request: web.Request, template: str, context: dict[str, Any] | None = None, status: int = 200
) -> web.Response:
    base: dict[str, Any] = {
        "office": office(request),
        "signed_in": signed_in(request),
        "csrf": csrf_for(request),
        "route": request.match_info.route.name,
        # What most pages may show; a page's own context overrides them.
        "notice": None,
        "error": None,
        "errors": {},
    }
    return aiohttp_jinja2.render_template(
        template, request, {**base, **(context or {})}, status=status
    )


def see_other(location: str) -> web.Response:
    """303: after a POST the browser GETs the next page, so reloading it changes nothing.
    Only ever a path on this site (built here, or a `next` that passed safe_next), so no
    open redirect."""
    assert location.startswith("/") and not location.startswith("//")
    return web.Response(status=303, headers={"Location": location})


def safe_next(value: object) -> str | None:
    """A page to return to after signing in, when it can only be a page of this office's site:
    one "/" and a path. "//host", "/\\host" (browsers read a backslash as a slash), a scheme,
    a control or space character, or a lookalike of "/" outside ASCII could send the patient
    to another site; a path this site made is percent-encoded ASCII."""
    if not isinstance(value, str) or not 1 <= len(value) <= _NEXT_MAX:
        return None
    if not value.startswith("/") or value.startswith("//") or "\\" in value:
        return None
    if any(not 0x21 <= ord(c) <= 0x7E for c in value):
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return None
    return value


def sign_in_location(request: web.Request, notice: str) -> str:
    """The sign-in page, remembering the page asked for (GET only: a form sent with a dead
    session is not replayed) so that signing in leads back to it."""
    query = {"notice": notice}
    wanted = request.path_qs if request.method in ("GET", "HEAD") else None
    going = safe_next(wanted)
    if going is not None and going != HOME:
        query["next"] = going
    return "/sign-in?" + urlencode(query)


def start(
    request: web.Request,
    method: str,
    params: dict[str, Any] | None = None,
    *,
    as_patient: bool = True,
) -> asyncio.Task[Any]:
    """`call`, started now. Requests started in one go, before the handler next awaits, leave
    in one link write (protocol/aio/client.py flushes at the end of the loop turn), so what a
    page needs costs one round trip however many requests it takes."""
    task = asyncio.ensure_future(call(request, method, params, as_patient=as_patient))
    # A request started on a guess may go unused (a step the practice's rules then skip): its
    # failure is nobody's to report, and must not be logged as an error never retrieved.
    task.add_done_callback(_retrieved)
    return task


def _retrieved(task: asyncio.Task[Any]) -> None:
    if not task.cancelled():
        task.exception()


async def call(
    request: web.Request,
    method: str,
    params: dict[str, Any] | None = None,
    *,
    as_patient: bool = True,
    idempotency_key: str | None = None,
) -> Any:
    """One agent request for this tenant, as the signed-in patient when `as_patient`.

    A dead session surfaces as SignInAgain; AgentUnavailable and every other RemoteError
    propagate for the handler (form errors) or the error middleware (pages) to show. On a
    signed-in page, neither an answer nor an error reaches the handler before the agent has
    accepted the session in this request (the check travels with the first request).
    """
    session = None
    if as_patient:
        session = session_token(request)
        if session is None:
            raise SignInAgain("required")
    try:
        answer = await request.app[AGENTS].request(
            request[TENANT],
            method,
            params or {},
            session=session,
            idempotency_key=idempotency_key,
            client=request[CLIENT],
            deadline=DEADLINE_SECONDS,
        )
    except asyncio.CancelledError:
        raise
    except RemoteError as exc:
        await session_checked(request)
        if as_patient and exc.code == ErrorCode.UNAUTHENTICATED:
            raise SignInAgain() from None
        raise
    except BaseException:
        await session_checked(request)
        raise
    await session_checked(request)
    return answer


async def session_checked(request: web.Request) -> None:
    """Wait for this signed-in page's session check, if it has one; a dead session raises
    SignInAgain (an unreachable agent, AgentUnavailable). Shielded: the check is shared by
    every call of the page, and one call being cancelled must not cancel it for the rest."""
    check = request.get(SESSION_CHECK)
    if check is not None:
        await asyncio.shield(check)
