"""Another web site, on another origin, whose page posts a form to the portal: what a
phishing page or a compromised site in another tab would do (cross-site request forgery)."""

from __future__ import annotations

import html
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web


@asynccontextmanager
async def attacker_site(
    target: str, fields: dict[str, str], *, sandboxed: bool = False
) -> AsyncIterator[str]:
    """Serve, at http://evil.localhost:<port>/, a page whose one button POSTs `fields` to
    `target` (no CSRF token: the attacker cannot read one). Yields the page's URL.

    `sandboxed`: the page runs in a CSP sandbox, so its origin is opaque and the browser sends
    `Origin: null`, which the portal's own pages also send under `Referrer-Policy:
    no-referrer`."""
    hidden = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
        for k, v in fields.items()
    )
    page = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Prize</title>'
        f'</head><body><main><h1>You won!</h1><form method="post" action="{html.escape(target)}">'
        f"{hidden}<button>Claim my prize</button></form></main></body></html>"
    )

    async def show(request: web.Request) -> web.Response:
        response = web.Response(text=page, content_type="text/html")
        if sandboxed:
            response.headers["Content-Security-Policy"] = "sandbox allow-forms"
        return response

    app = web.Application()
    app.router.add_get("/", show)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    listening = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listening.bind(("127.0.0.1", 0))
    try:
        await web.SockSite(runner, listening).start()
        yield f"http://evil.localhost:{listening.getsockname()[1]}/"
    finally:
        await runner.cleanup()
        listening.close()
