"""Security review of issue 11's session check:

> the new session-check middleware (proxy/views/header.py signed_in_pages): any signed-in route
> or method that escapes it

None of today's routes does, but the middleware let every route without a name through, taking
"no name" to mean "no route matched" (a 404 or 405). A page added without a name would have
been served with no session at all, and test_fix_session_checked_before_every_signed_in_page
skips unnamed routes too. Signed-out pages are a list (base.SIGNED_OUT_ROUTES); anything else
that matched a route, named or not, is a signed-in page.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from proxy.app import create_app
from tests.proxy.agent_fixtures import ProxySetup, closed_port
from tests.proxy.portal import HOST, proxy_config


async def test_a_route_without_a_name_still_needs_a_session(
    link_keys: Path, tmp_path: Path
) -> None:
    app = create_app(proxy_config(ProxySetup(link_keys, tmp_path), closed_port()))

    async def private(request: web.Request) -> web.Response:
        return web.Response(text="a signed-in page")

    app.router.add_get("/unnamed", private)
    async with TestClient(TestServer(app)) as client:
        answer = await client.get("/unnamed", headers={"Host": HOST}, allow_redirects=False)
        missing = await client.get("/no-such-page", headers={"Host": HOST})
        assert (answer.status, answer.headers.get("Location", "")[:8]) == (303, "/sign-in")
        assert missing.status == 404  # no route: the error page, no sign-in needed
