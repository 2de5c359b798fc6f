"""The Prometheus scrape endpoint both programs serve (the agent on 127.0.0.1:9123, the proxy
on 127.0.0.1:9124 by default): a tiny aiohttp listener of its own. Shared here because the agent
and the proxy may not import each other; what each measures lives in agent/metrics.py and
proxy/metrics.py.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder


class MetricsEndpoint:
    """``GET /metrics`` on a listener of its own: never on the link's port or the patients'
    site. ``before_scrape`` refreshes gauges that are read on demand (the agent's outbox
    depth); ``log`` is the owning program's logger, so its lines say whose metrics they are."""

    def __init__(
        self,
        registry: CollectorRegistry,
        *,
        log: Any,
        before_scrape: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._registry = registry
        self._log = log
        self._before_scrape = before_scrape
        app = web.Application()
        app.router.add_get("/metrics", self._metrics)
        # A scrape is one quick request: nothing worth waiting for at shutdown.
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1)
        self._site: web.TCPSite | None = None

    async def _metrics(self, request: web.Request) -> web.Response:
        if self._before_scrape is not None:
            await self._before_scrape()
        # Prometheus asks for the format it prefers (OpenMetrics or text) in Accept.
        encode, content_type = choose_encoder(request.headers.get("Accept", ""))
        return web.Response(
            body=encode(self._registry),
            headers={"Content-Type": content_type, "Cache-Control": "no-store"},
        )

    async def start(self, host: str, port: int) -> None:
        """Listen on ``host:port``. A port that is taken is logged, not raised: metrics are
        for operators, and their absence must never keep patients out of the portal
        (Prometheus shows the target down, which is the alert)."""
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port, reuse_address=True)
        try:
            await site.start()
        except OSError as exc:
            self._log.error(
                "metrics.listen_failed", host=host, port=port, reason=exc.strerror or str(exc)
            )
            return
        self._site = site
        self._log.info("metrics.listening", host=host, port=self.address and self.address[1])

    @property
    def address(self) -> tuple[str, int] | None:
        """The (host, port) actually listened on; None when not listening."""
        if self._site is None or not self._runner.addresses:
            return None
        host, port = self._runner.addresses[0][:2]
        return str(host), int(port)

    async def close(self) -> None:
        await self._runner.cleanup()
