"""Every signed-in page: the agent's word that the session is still live, and the header's
"Messages (2 unread)" link.

Every route not in base.SIGNED_OUT_ROUTES is a signed-in page, and no handler of one is
handed anything from the agent before the agent has accepted its session in this request:
the booking steps, for example, make only calls that need no session, so without this a
patient whose access was just disabled would still be shown them. One call does both jobs on
a page with the header: the unread count needs the session, so its answer is the check. When
the count cannot be had for another reason (its table is unreadable, the count is slow), or
the route has no header (a download, a thread, which counts after opening), `access.session`
is asked instead, with the full deadline.

On a GET the check is started before the handler runs and travels in the same link write as
the handler's own requests (one round trip per page over a WAN, docs/performance.md); every
`call` of the page waits for it before it hands back an answer (base.session_checked), and
the page is sent only once it passed. A POST is checked first, before its body is read: that
body may be 4 MiB (proxy/middlewares.py), which nobody without a live session may make the
proxy hold. A POST is counted too: the form it sends back with errors has the header.

The count reaches every template (error pages included) through aiohttp_jinja2's per-request
context. It is a convenience, never a reason to fail: without it the link shows no number.
"""

from __future__ import annotations

import asyncio
import warnings

import aiohttp_jinja2
import structlog
from aiohttp import web
from aiohttp.typedefs import Handler

from protocol.aio import RemoteError
from protocol.errors import ErrorCode
from proxy.agents import AgentUnavailable
from proxy.security import SAFE_METHODS, session_token
from proxy.views.base import (
    AGENTS,
    CLIENT,
    DEADLINE_SECONDS,
    SESSION_CHECK,
    SIGNED_OUT_ROUTES,
    TENANT,
    SignInAgain,
)

log = structlog.get_logger("portico.proxy.header")

# Short: a slow count must not hold up the page it decorates.
UNREAD_DEADLINE_SECONDS = 2.0
# GET routes that answer with a file rather than a page: there is no header to fill in.
_NO_HEADER = frozenset({"static", "message_attachment", "health_record"})
# Opening a thread marks its messages read, so that page asks for the count itself, after.
COUNTED_BY_HANDLER = frozenset({"message_thread"})


@web.middleware
async def signed_in_pages(request: web.Request, handler: Handler) -> web.StreamResponse:
    route = request.match_info.route.name
    # No route matched (404, 405): the error page needs no session. A route that matched is
    # signed-in unless listed, named or not.
    if request.match_info.http_exception is not None or route in SIGNED_OUT_ROUTES:
        return await handler(request)
    if session_token(request) is None:
        raise SignInAgain("required")
    if request.method not in SAFE_METHODS:
        await check_session(request, route)
        return await handler(request)
    check = request[SESSION_CHECK] = asyncio.ensure_future(check_session(request, route))
    try:
        response = await handler(request)
    except asyncio.CancelledError:
        check.cancel()
        raise
    except BaseException:
        # What the patient is told when the check fails (sign in again, call the office) comes
        # first, as when the check ran before the handler.
        await check
        raise
    await check
    return response


async def check_session(request: web.Request, route: str | None) -> None:
    """The count where the page has a header, else (or when the count could not be had) the
    agent's plain word on the session. A dead session raises SignInAgain."""
    counted = False
    if route not in _NO_HEADER and route not in COUNTED_BY_HANDLER:
        counted = await remember_unread(request)
    if not counted:
        await _session(request)


async def _session(request: web.Request) -> None:
    # Not base.call: that waits for this very check.
    try:
        await request.app[AGENTS].request(
            request[TENANT],
            "access.session",
            {},
            session=session_token(request),
            client=request[CLIENT],
            deadline=DEADLINE_SECONDS,
        )
    except RemoteError as exc:
        if exc.code == ErrorCode.UNAUTHENTICATED:
            raise SignInAgain() from None
        raise


async def remember_unread(request: web.Request) -> bool:
    """Fetch the count and hand it to this request's templates as `unread` (None: unknown).
    True when the agent gave it, which it does only for a live session."""
    return show_unread(request, await unread_count(request))


def show_unread(request: web.Request, unread: object) -> bool:
    """Hand `unread` to this request's templates, if it is a count (else: unknown). True when
    it was one."""
    count = unread if isinstance(unread, int) and not isinstance(unread, bool) else None
    if count is not None and count < 0:
        count = None
    context = request.get(aiohttp_jinja2.REQUEST_CONTEXT_KEY)
    if context is None:
        # aiohttp_jinja2 keys its per-request context with a plain string; aiohttp warns about
        # string keys to steer new code towards RequestKey, which this library API predates.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", web.NotAppKeyWarning)
            context = request[aiohttp_jinja2.REQUEST_CONTEXT_KEY] = {}
    context["unread"] = count
    return count is not None


async def unread_count(request: web.Request) -> int | None:
    """The count, or None when the agent could not give it. A dead session raises
    SignInAgain: that answer is the agent's, not a missing count."""
    session = session_token(request)
    if session is None:
        return None
    try:
        result = await request.app[AGENTS].request(
            request[TENANT],
            "messages.unread_count",
            {},
            session=session,
            client=request[CLIENT],
            deadline=UNREAD_DEADLINE_SECONDS,
        )
    except RemoteError as exc:
        if exc.code == ErrorCode.UNAUTHENTICATED:
            raise SignInAgain() from None
        return None
    except AgentUnavailable:
        return None  # the session check that follows meets the same trouble and says so
    except Exception as exc:
        log.warning("proxy.unread_count_failed", tenant=request[TENANT], error=type(exc).__name__)
        return None
    count = result.get("unread") if isinstance(result, dict) else None
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        return None
    return count
