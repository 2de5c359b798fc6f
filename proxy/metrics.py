"""The proxy's Prometheus endpoint (a listener of its own, 127.0.0.1:9124) and ``/healthz``.

Counted: requests by route *name* and status (never the path, which can hold a one-time token
or an appointment id), how long they took, and the state of each office's link. Every label
value comes from this code — route names, status codes, the configured subdomains — so no
patient data can reach a scrape. Subdomains name offices, not patients.

The endpoint is not on the patients' site: it has no sign-in, and which offices use the portal
how much is the operator's business. Each app has its own registry, not prometheus_client's
global one, so tests can run several proxies in one process.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator

import structlog
from aiohttp import web
from aiohttp.typedefs import Handler
from prometheus_client import CollectorRegistry, Counter, Histogram, ProcessCollector
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from protocol.service.metrics_endpoint import MetricsEndpoint
from proxy.agents import LINK_STATES as LINK_STATES
from proxy.agents import AgentConnections
from proxy.views.base import AGENTS, CONFIG

log = structlog.get_logger("portico.proxy.metrics")

HEALTHZ = "healthz"  # the route's name
UNMATCHED = "unmatched"  # no route: the access log's word too
# A page is a link round trip or two plus rendering: milliseconds, unless an agent is slow.
LATENCY_BUCKETS = (0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


class ProxyMetrics:
    """One app's metrics, in a registry of their own."""

    def __init__(self, agents: Callable[[], AgentConnections | None]) -> None:
        """``agents`` gives the app's links when they exist (they open with the app)."""
        self.registry = CollectorRegistry()
        r = self.registry
        ProcessCollector(registry=r)
        self.requests = Counter(
            "portico_proxy_http_requests",
            "HTTP requests answered, by route name and status.",
            ["route", "status"],
            registry=r,
        )
        self.latency = Histogram(
            "portico_proxy_http_request_duration_seconds",
            "Time to answer an HTTP request, by route name.",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        r.register(LinkStates(agents))
        self._endpoint: MetricsEndpoint | None = None

    def observe(self, route: str, status: str, seconds: float) -> None:
        self.requests.labels(route, status).inc()
        self.latency.labels(route).observe(seconds)

    async def serve(self, host: str, port: int) -> None:
        """Serve ``GET /metrics`` on ``host:port`` until :meth:`close`."""
        self._endpoint = MetricsEndpoint(self.registry, log=log)
        await self._endpoint.start(host, port)

    @property
    def address(self) -> tuple[str, int] | None:
        """The (host, port) the endpoint listens on; None when it does not."""
        return None if self._endpoint is None else self._endpoint.address

    async def close(self) -> None:
        if self._endpoint is not None:
            await self._endpoint.close()
            self._endpoint = None


METRICS = web.AppKey("portico_metrics", ProxyMetrics)


class LinkStates(Collector):
    """Each office's link state, read from the live links at scrape time.

    One series per state, 1 for the current one (Prometheus's usual way to export an enum); the
    states are proxy.agents.LINK_STATES. An office a reload removed has no series from the next
    scrape on; one it added has them at once (``idle`` until its link is first used, ``waiting``
    for a dial_out office until its agent dials in). ``portico_proxy_agent_links`` counts the
    usable links (a dial_out office may hold spares)."""

    def __init__(self, agents: Callable[[], AgentConnections | None]) -> None:
        self._agents = agents

    def collect(self) -> Iterator[Metric]:
        # Runs in the scrape's handler, on the event loop that owns the links: no locking.
        states = GaugeMetricFamily(
            "portico_proxy_agent_link_state",
            "The state of the link to each office's agent (1 for the current state).",
            labels=["tenant", "state"],
        )
        failures = GaugeMetricFamily(
            "portico_proxy_agent_link_failures",
            "Failed attempts in a row to connect to each office's agent.",
            labels=["tenant"],
        )
        links = GaugeMetricFamily(
            "portico_proxy_agent_links",
            "Usable links to each office's agent (a dial_out office may hold spares).",
            labels=["tenant"],
        )
        agents = self._agents()
        for tenant, link in ({} if agents is None else agents.link_states()).items():
            for state in LINK_STATES:
                states.add_metric([tenant, state], 1.0 if state == link.state else 0.0)
            failures.add_metric([tenant], float(link.failures))
            links.add_metric([tenant], float(link.links))
        yield states
        yield failures
        yield links


# -- the public app: counting its requests, and /healthz ---------------------------------------


@web.middleware
async def count_requests(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Outermost middleware: every request is counted, whatever answers it."""
    started = time.perf_counter()
    status = "500"
    try:
        response = await handler(request)
        status = str(response.status)
        return response
    except web.HTTPException as exc:
        status = str(exc.status)
        raise
    except asyncio.CancelledError:
        status = "cancelled"  # the client went away
        raise
    finally:
        route = request.match_info.route.name or UNMATCHED
        request.app[METRICS].observe(route, status, time.perf_counter() - started)


async def healthz(request: web.Request) -> web.Response:
    """200 "ok" while this process accepts and answers HTTP requests.

    What it does NOT check, on purpose: any office's agent or link (one office's outage must not
    take a replica out of the load balancer's pool, where it serves every other office), the
    tenant registry, the link key, or the templates. It says nothing about any office, so it
    takes no tenant and needs no Host header.

    One exception, bounded: right after a start, 503 "warming up" until the dial_out offices'
    agents have dialled this replica again, for at most ``link.listen.warm_up_seconds``. Until
    an office's agent is back, every page for it here would say "cannot be reached", while the
    other replicas still hold its link (issue 15)."""
    agents = request.app.get(AGENTS)
    if agents is not None and agents.warming_up():
        return web.Response(status=503, text="warming up: offices are dialling in\n")
    return web.Response(text="ok\n")


@web.middleware
async def answer_health_check(request: web.Request, handler: Handler) -> web.StreamResponse:
    # Before the tenant and access-log middlewares: load balancers probe a replica by its
    # address, without an office's Host header, every few seconds.
    if request.match_info.route.name == HEALTHZ:
        return await healthz(request)
    return await handler(request)


def setup_metrics(app: web.Application) -> None:
    """Count ``app``'s requests (with :func:`count_requests` and :func:`answer_health_check`
    in its middlewares), add ``/healthz``, and open the metrics listener with the app."""
    app[METRICS] = ProxyMetrics(lambda: app.get(AGENTS))
    app.router.add_get("/healthz", healthz, name=HEALTHZ)
    app.cleanup_ctx.append(_metrics_listener)


async def _metrics_listener(app: web.Application) -> AsyncIterator[None]:
    # Read once: the listener's address is a restart-only setting (proxy/reload.py).
    settings = app[CONFIG].current.metrics
    if settings.enabled:
        await app[METRICS].serve(settings.host, settings.port)
    yield
    await app[METRICS].close()
