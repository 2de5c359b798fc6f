"""The Prometheus scrape endpoint both programs serve (the agent on 127.0.0.1:9123, the proxy
on 127.0.0.1:9124 by default): a tiny aiohttp listener of its own. Shared here because the agent
and the proxy may not import each other; what each measures lives in agent/metrics.py and
proxy/metrics.py.
"""

from __future__ import annotations

import enum
import errno
import http.client
import socket
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder

from protocol.service.check_report import CheckResult, ok, warn


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


# --- for the programs' `check` -----------------------------------------------------------------

# Where to reach a server listening on every address (or the default) from this machine.
LOOPBACK = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}
_SCRAPE_LIMIT = 1 << 20


def listen_probe(host: str, port: int) -> None:
    """Listen on ``host:port`` for an instant, as the servers will (OSError if they could not)."""
    family, kind, proto, _, address = socket.getaddrinfo(
        host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    with socket.socket(family, kind, proto) as probe:
        # As asyncio's servers do: a port held only by old TIME_WAIT connections is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(address)
        probe.listen()


class PortHolder(enum.Enum):
    NOBODY = "free"
    PORTICO = "a running Portico metrics endpoint"
    OTHER = "another program"


def metrics_port_holder(host: str, port: int, *, metric_prefix: str, timeout: float) -> PortHolder:
    """Who holds the metrics port: nobody, an endpoint serving ``metric_prefix`` metrics (the
    program is running), or another program. OSError when it cannot be listened on at all."""
    try:
        listen_probe(host, port)
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise
        return (
            PortHolder.PORTICO if _serves(host, port, metric_prefix, timeout) else PortHolder.OTHER
        )
    return PortHolder.NOBODY


def _serves(host: str, port: int, metric_prefix: str, timeout: float) -> bool:
    connection = http.client.HTTPConnection(LOOPBACK.get(host, host), port, timeout=timeout)
    try:
        connection.request("GET", "/metrics")
        response = connection.getresponse()
        body = response.read(_SCRAPE_LIMIT).decode("utf-8", "replace")
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()
    return response.status == 200 and f"\n{metric_prefix}" in body


def metrics_port_verdict(
    enabled: bool, host: str, port: int, *, program: str, metric_prefix: str, timeout: float
) -> CheckResult:
    """The metrics line of ``program``'s check, OK or WARN. Another program on the port is a
    warning, not a failure: ``program`` then runs without metrics (it logs why, see
    :meth:`MetricsEndpoint.start`), patients notice nothing, and Prometheus shows the target
    down."""
    where = f"{host}:{port}"
    if not enabled:
        return ok("metrics", "the metrics endpoint is off (metrics.enabled: false)")
    if port == 0:
        return ok("metrics", f"{host}: any free port (metrics.port: 0)")
    try:
        holder = metrics_port_holder(host, port, metric_prefix=metric_prefix, timeout=timeout)
    except OSError as exc:
        return warn(
            "metrics",
            f"cannot listen on {where}: {exc.strerror or exc}; the {program} would run without "
            "metrics",
            fix=("set metrics.host to an address of this machine and metrics.port to a free port",),
        )
    if holder is PortHolder.NOBODY:
        return ok("metrics", f"{where} is free")
    if holder is PortHolder.PORTICO:
        return ok("metrics", f"{where} is in use by a running Portico {program}'s metrics")
    return warn(
        "metrics",
        f"{where} is in use by another program: the {program} would run without metrics",
        fix=(
            f"stop the program that holds it (find it with `ss -ltnp 'sport = :{port}'` on Linux "
            f"or `lsof -nP -iTCP:{port} -sTCP:LISTEN` on macOS), or set metrics.port to a free "
            "port",
        ),
    )
