"""The proxy's HTTP server: aiohttp's, with Portico's timeouts (`portal_runner`) and its
answer to requests it cannot parse.

aiohttp answers a request its parser refuses (a bad request line, a bad Content-Length,
an oversized or duplicated header, Transfer-Encoding with Content-Length) itself, before any
middleware or `on_response_prepare` hook runs: with none of the security headers, with the
parser's message quoting the bad input, its `Server: Python/... aiohttp/...` banner, and an
error-level log line with a traceback. `RequestHandler.handle_error` is the method aiohttp
calls for those answers; `PortalRunner` makes the server build handlers that override it.

Private aiohttp names used (nothing else offers the hook): `AppRunner._make_server`, the
runner's hook that builds the server, and `Server._loop`/`Server._kwargs`, to build the
handler as `Server.__call__` does. tests/proxy/security/test_fix_parser_errors_secured.py
fails if a new aiohttp stops calling them.
"""

from __future__ import annotations

from http import HTTPStatus

import structlog
from aiohttp import web

from protocol.errors import where_it_failed
from proxy.security import SECURITY_HEADERS

log = structlog.get_logger("portico.proxy")

# How long a connection may sit idle, or trickle an unfinished request head, before it is
# closed. aiohttp's default (3,630 s) lets 500 slowloris clients hold 500 sockets for an hour
# (tests/proxy/faults/test_slow_connections.py); 15 s is ample for a browser's keep-alive.
KEEPALIVE_SECONDS = 15.0
# After answering a request whose body was not read (too slow, or an unknown office), what
# still arrives is read and dropped for this long, so the client gets the answer rather than a
# reset; then the connection closes. aiohttp's default is 10 s.
LINGERING_SECONDS = 2.0


class PortalRequestHandler(web.RequestHandler):
    """One HTTP connection; only the answers aiohttp makes on its own differ."""

    def handle_error(
        self,
        request: web.BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        # `message` is the parser's text, which quotes the bad input: neither logged nor sent.
        if status >= 500:  # a handler failed (500) or timed out (504) outside the error pages
            fields = where_it_failed(exc) if exc is not None else {}
            log.error("http.server_error", status=status, **fields)
        else:
            error = type(exc).__name__ if exc is not None else None
            log.info("http.unparsable_request", status=status, error=error)
        if request.writer.output_size > 0:
            raise ConnectionError("the response had started; the connection is broken")
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = "Error"
        response = web.Response(status=status, text=f"{status} {phrase}\n")
        response.headers.update(SECURITY_HEADERS)
        # aiohttp adds its versioned banner to a response without a Server header, after the
        # point where add_security_headers would remove it; this one names no version.
        response.headers["Server"] = "portico"
        response.force_close()
        return response


class _PortalServer(web.Server):
    def __call__(self) -> web.RequestHandler:
        return PortalRequestHandler(self, loop=self._loop, **self._kwargs)


class PortalRunner(web.AppRunner):
    """`web.AppRunner` whose connections are `PortalRequestHandler`s."""

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        return _PortalServer(
            server.request_handler,
            request_factory=server.request_factory,
            handler_cancellation=server.handler_cancellation,
            loop=server._loop,
            **server._kwargs,
        )


def portal_runner(app: web.Application) -> PortalRunner:
    """The HTTP server run_proxy (proxy/serve.py) puts in front of `app`."""
    # aiohttp's own access log would write the raw path and query (one-time tokens): off.
    return PortalRunner(
        app,
        access_log=None,
        handle_signals=False,
        shutdown_timeout=10,
        keepalive_timeout=KEEPALIVE_SECONDS,
        lingering_time=LINGERING_SECONDS,
    )
