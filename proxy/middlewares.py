"""The portal's middlewares, and their order: `PORTAL_MIDDLEWARES`, outermost first.

0. metrics (proxy/metrics.py): every request counted by route name and status; /healthz
   answered before the tenant is looked for (load balancers probe without an office's Host);
1. access log: one line per request with the route's *name* (never the path or query, which
   can carry a one-time token), tenant, status and duration;
2. tenant: the Host header picks the office; anything else gets one fixed 404 page;
3. error pages: whatever a handler raises becomes a page with the office's name and phone;
4. Origin: a request that is not GET/HEAD must come from this office's own pages. Before the
   session check: a cross-site POST carries no SameSite=Lax cookie and must be refused as
   cross-site, not sent to the sign-in page as a signed-out patient;
5. signed-in pages: the agent checks the session before the handler (proxy/views/header.py),
   and before any body is read;
6. large bodies: the two routes that take more than MAX_BODY get their own limit;
7. CSRF: the token in the body of every request that is not GET/HEAD (the first body read);
8. rate limits on the forms that attackers hammer.

The security headers are added in `on_response_prepare` (proxy/security.py), which also
reaches the responses no middleware sees.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from pathlib import Path
from typing import TypeVar

import structlog
from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.typedefs import Handler, Middleware

from protocol.aio import RemoteError
from protocol.errors import ErrorCode
from proxy.agents import AgentUnavailable
from proxy.metrics import answer_health_check, count_requests
from proxy.security import (
    CSRF_FIELD,
    SAFE_METHODS,
    clear_session_cookie,
    client_info,
    client_ip,
    csrf_valid,
    new_pre_session_token,
    origin_of,
    pre_session_token,
    same_origin,
    session_token,
    set_pre_session_cookie,
)
from proxy.tenants import tenant_from_host
from proxy.views import RATE_LIMITED
from proxy.views.base import (
    CLIENT,
    CONFIG,
    NEW_PRE_SESSION,
    RATE_LIMITS,
    SCHEME,
    SECRET,
    TENANT,
    TRUSTED_PROXIES,
    CsrfRefused,
    SignInAgain,
    TooManyAttempts,
    see_other,
    sign_in_location,
)
from proxy.views.errors import error_page, plain_error, unknown_site
from proxy.views.form_input import read_form
from proxy.views.header import signed_in_pages
from proxy.views.wording import UNREACHABLE_CODES

# Sign-in, booking, a message reply: a few short fields; nothing a patient sends comes near this.
MAX_BODY = 64 * 1024
# Saving an office form is the exception: the agent takes up to 200 answers of up to 10,000
# characters (agent/forms/definition.py), and a browser sends each character of a non-Latin
# script as 6 to 12 bytes (%E6%BC%A2), so one long answer in Chinese is about 90 KB. Accepting
# the agent's whole limit (tens of MB) would let any client make a replica hold that much per
# request, since a body is read before the session is checked; 1 MiB holds about ten such
# answers, more than any form asks for at once.
FORM_SAVE_MAX_BODY = 1024 * 1024
# A new message may carry one file of up to 3 MiB (the agent's limit, docs/protocol.md
# messages.start) as well as its text; a little over that, so a file just too big gets the
# form's own message ("the file is 3.2 MiB ...") rather than the "too large" page.
MESSAGE_START_MAX_BODY = 4 * 1024 * 1024
LARGE_BODY_ROUTES = {"form_save": FORM_SAVE_MAX_BODY, "message_start": MESSAGE_START_MAX_BODY}

# The whole body must arrive within this long, plus its declared length at a slow phone's
# upload rate, as the request head must within KEEPALIVE_SECONDS (proxy/http_server.py): a
# client dribbling a byte now and then would otherwise hold a connection and a handler for as
# long as it likes. A 60 KiB form gets 17 s, a 1 MiB one 47 s (256 kbit/s is a poor mobile
# uplink).
REQUEST_BODY_SECONDS = 15.0
SLOWEST_UPLOAD_BYTES_PER_SECOND = 32 * 1024
BODY_SECONDS = web.AppKey("portico_body_seconds", float)

T = TypeVar("T")

log = structlog.get_logger("portico.proxy")
access_log = structlog.get_logger("portico.proxy.access")

_REMOTE_STATUS: dict[str, int] = {
    ErrorCode.RATE_LIMITED: 429,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.INVALID_PARAMS: 400,
}


@web.middleware
async def log_request(request: web.Request, handler: Handler) -> web.StreamResponse:
    started = time.perf_counter()
    status: int | str = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    except asyncio.CancelledError:
        status = "cancelled"  # the client went away
        raise
    finally:
        access_log.info(
            "http.request",
            tenant=request.get(TENANT),
            method=request.method,
            route=request.match_info.route.name or "unmatched",
            status=status,
            duration_ms=round((time.perf_counter() - started) * 1000, 1),
        )


@web.middleware
async def find_tenant(request: web.Request, handler: Handler) -> web.StreamResponse:
    hosts = request.headers.getall("Host", [])
    config = request.app[CONFIG].current  # read once: a reload may replace it meanwhile
    tenant = tenant_from_host(hosts[0], config.portal_domain) if len(hosts) == 1 else None
    if tenant is None or tenant not in config.tenants:
        return unknown_site()
    request[TENANT] = tenant
    request[CLIENT] = client_info(request, client_ip(request, request.app[TRUSTED_PROXIES]))
    return await handler(request)


@web.middleware
async def error_pages(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await _page_or_error(request, handler)
    except web.HTTPException:
        raise  # a redirect
    except Exception:
        # Rendering the error page itself failed: still no traceback for the patient.
        log.error("proxy.error_page_failed", route=request.match_info.route.name)
        return plain_error(500)


async def _page_or_error(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return error_page(request, exc.status)
    except SignInAgain as again:
        response = see_other(sign_in_location(request, again.notice))
        clear_session_cookie(response)
        return response
    except CsrfRefused:
        log.warning("proxy.csrf_refused", tenant=request[TENANT], route=_route(request))
        return error_page(request, 403)
    except TooManyAttempts:
        log.warning("proxy.rate_limited", tenant=request[TENANT], route=_route(request))
        return error_page(request, 429)
    except AgentUnavailable as exc:
        log.warning("proxy.agent_unavailable", tenant=request[TENANT], reason=exc.reason)
        return error_page(request, 503)
    except RemoteError as exc:
        status = 503 if exc.code in UNREACHABLE_CODES else _REMOTE_STATUS.get(exc.code, 500)
        log.warning(
            "proxy.agent_error", tenant=request[TENANT], route=_route(request), code=exc.code
        )
        return error_page(request, status)
    except Exception as exc:
        # The type and where it happened only: a message or the locals could hold patient data.
        frame = exc.__traceback__
        while frame is not None and frame.tb_next is not None:
            frame = frame.tb_next
        where = f"{Path(frame.tb_frame.f_code.co_filename).name}:{frame.tb_lineno}" if frame else ""
        log.error("proxy.unhandled", route=_route(request), error=type(exc).__name__, where=where)
        return error_page(request, 500)


def _route(request: web.Request) -> str:
    return request.match_info.route.name or "unmatched"


@web.middleware
async def allow_large_bodies(request: web.Request, handler: Handler) -> web.StreamResponse:
    # aiohttp's client_max_size is one limit for the whole app; a clone of the request is how
    # aiohttp lets one route read a bigger body. It runs before check_csrf, the first reader.
    limit = LARGE_BODY_ROUTES.get(_route(request)) if request.method == "POST" else None
    if limit is not None:
        request = request.clone(client_max_size=limit)
    return await handler(request)


@web.middleware
async def check_origin(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A state change from another site is refused on its headers alone, before the session
    check: a cross-site POST carries no SameSite=Lax cookie, and must be told apart from a
    signed-out patient (the CSRF token, in the body, is checked by check_csrf)."""
    if request.method not in SAFE_METHODS and not same_origin(
        request, origin_of(request, request.app[SCHEME])
    ):
        raise CsrfRefused()
    return await handler(request)


@web.middleware
async def check_csrf(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.method in SAFE_METHODS:
        fresh = None
        if pre_session_token(request) is None and _route(request) != "static":
            fresh = request[NEW_PRE_SESSION] = new_pre_session_token()
        response = await handler(request)
        if fresh is not None:
            set_pre_session_cookie(response, fresh)
        return response
    try:
        form = await body_in_time(request, read_form(request))
    except (ValueError, HttpProcessingError):  # a body that does not parse as a form
        # (UnicodeDecodeError, from a field that is not text in its charset, is a ValueError)
        raise web.HTTPBadRequest() from None
    sent = form.get(CSRF_FIELD)
    bound = session_token(request) or pre_session_token(request)
    if not csrf_valid(
        request.app[SECRET], request[TENANT], bound, sent if isinstance(sent, str) else None
    ):
        raise CsrfRefused()
    return await handler(request)


async def body_in_time(request: web.Request, reading: Awaitable[T]) -> T:
    """`reading` (the body being read) within BODY_SECONDS plus its length's share. The CSRF
    check reads every posted body first and aiohttp caches it, so this is the one place a body
    is waited for."""
    length = min(request.content_length or 0, request.client_max_size)
    seconds = request.app[BODY_SECONDS] + length / SLOWEST_UPLOAD_BYTES_PER_SECOND
    try:
        async with asyncio.timeout(seconds):
            return await reading
    except TimeoutError:
        # A slow or stalled client, not a fault here: answered 408 and closed.
        log.info("http.body_timeout", tenant=request[TENANT], route=_route(request))
        raise web.HTTPRequestTimeout(headers={"Connection": "close"}) from None
    except ConnectionError:
        # The client went away mid-body; nobody is left to answer.
        log.info("http.body_abandoned", tenant=request[TENANT], route=_route(request))
        raise web.HTTPBadRequest() from None


@web.middleware
async def rate_limit(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.method == "POST":
        action = RATE_LIMITED.get(request.match_info.route.name or "")
        if action is not None:
            address = request[CLIENT].get("ip") or "unknown"
            if not request.app[RATE_LIMITS][action].allow(f"{action}:{address}"):
                raise TooManyAttempts()
    return await handler(request)


# The order is the docstring's; each step relies on the ones before it (a tenant for the error
# page, an error page for every refusal, no body read before the session and the Origin).
PORTAL_MIDDLEWARES: tuple[Middleware, ...] = (
    count_requests,
    answer_health_check,
    log_request,
    find_tenant,
    error_pages,
    check_origin,
    # Before any body is read: a signed-in page's POST from someone without a live
    # session is refused without taking its body (up to 4 MiB) into memory.
    signed_in_pages,
    allow_large_bodies,
    check_csrf,
    rate_limit,
)
