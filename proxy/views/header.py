"""The header's "Messages (2 unread)" link: the unread count on every signed-in page.

The count is fetched once per signed-in GET that renders a page, before the handler runs, and
reaches every template (error pages included) through aiohttp_jinja2's per-request context.
It is a convenience, never a reason to fail: when the agent cannot give it (down, slow, the
session gone) the link shows without a number and the handler's own calls decide what the
page says.
"""

from __future__ import annotations

import warnings

import aiohttp_jinja2
import structlog
from aiohttp import web
from aiohttp.typedefs import Handler

from protocol.aio import RemoteError
from proxy.agents import AgentUnavailable
from proxy.security import session_token
from proxy.views.base import AGENTS, CLIENT, TENANT

log = structlog.get_logger("portico.proxy.header")

# Short: a slow count must not hold up the page it decorates.
UNREAD_DEADLINE_SECONDS = 2.0
# GET routes that answer with a file rather than a page: there is no header to fill in.
_NO_HEADER = frozenset({"static", "message_attachment", "health_record"})
# Opening a thread marks its messages read, so that page asks for the count itself, after.
COUNTED_BY_HANDLER = frozenset({"message_thread"})


@web.middleware
async def unread_messages(request: web.Request, handler: Handler) -> web.StreamResponse:
    route = request.match_info.route.name or ""
    if (
        request.method == "GET"
        and session_token(request) is not None
        and route not in _NO_HEADER
        and route not in COUNTED_BY_HANDLER
    ):
        await remember_unread(request)
    return await handler(request)


async def remember_unread(request: web.Request) -> None:
    """Fetch the count and hand it to this request's templates as `unread` (None: unknown)."""
    unread = await unread_count(request)
    context = request.get(aiohttp_jinja2.REQUEST_CONTEXT_KEY)
    if context is None:
        # aiohttp_jinja2 keys its per-request context with a plain string; aiohttp warns about
        # string keys to steer new code towards RequestKey, which this library API predates.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", web.NotAppKeyWarning)
            context = request[aiohttp_jinja2.REQUEST_CONTEXT_KEY] = {}
    context["unread"] = unread


async def unread_count(request: web.Request) -> int | None:
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
    except (RemoteError, AgentUnavailable):
        return None  # the page's own request meets the same trouble and says so
    except Exception as exc:
        log.warning("proxy.unread_count_failed", tenant=request[TENANT], error=type(exc).__name__)
        return None
    count = result.get("unread") if isinstance(result, dict) else None
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        return None
    return count
