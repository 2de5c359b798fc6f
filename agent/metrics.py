"""The agent's Prometheus endpoint: ``GET /metrics`` on its own small listener (127.0.0.1:9123).

What it counts: link connections, requests by method and outcome, how long they took, database
connections in use, and the mail waiting in the outbox. Every label value comes from a fixed set
in this code (method names from the method table, error codes from ErrorCode), never from what a
request carried, so no patient data, session token or free text can reach a scrape.

Each :class:`AgentMetrics` has its own registry rather than prometheus_client's global one: tests
run several agents in one process, and each must count only its own requests.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Collection
from typing import Any

import pymysql
import structlog
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector

from agent.db import Database, DatabaseUnavailable
from protocol.aio import Handler, HelloCheck, LinkError, LinkServer, Request
from protocol.errors import ErrorCode
from protocol.events import HelloReceived
from protocol.service.metrics_endpoint import MetricsEndpoint

log = structlog.get_logger("portico.agent.metrics")

# Link requests take from well under a millisecond (practice.info) to a second or more (a
# sign-in's argon2 hash on a busy server); the deadline the proxy sends is 10 s.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
# A scrape waits this long for the outbox count; past it, the last known value is served.
OUTBOX_QUERY_SECONDS = 5.0

UNKNOWN_METHOD = "unknown"
_CODES = frozenset(code.value for code in ErrorCode)

# Both counts read the (sent_at, dead, next_attempt_at) index: only unsent rows are visited.
_OUTBOX_COUNTS = "SELECT dead, COUNT(*) AS n FROM portal_outbox WHERE sent_at IS NULL GROUP BY dead"


class AgentMetrics:
    """The agent's metrics, in a registry of their own."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._endpoint: MetricsEndpoint | None = None
        self.registry = CollectorRegistry()
        r = self.registry
        ProcessCollector(registry=r)  # memory, CPU, open files: no labels at all
        self.connections_open = Gauge(
            "portico_agent_link_connections",
            "Link connections open now (from allowed networks, handshake done or not).",
            registry=r,
        )
        self.connections_accepted = Counter(
            "portico_agent_link_connections_accepted",
            "Links established: pinned TLS and a HELLO for this practice accepted.",
            registry=r,
        )
        self.requests = Counter(
            "portico_agent_link_requests",
            "Link requests answered, by method and outcome (ok or the error code).",
            ["method", "code"],
            registry=r,
        )
        self.latency = Histogram(
            "portico_agent_link_request_duration_seconds",
            "Time from a request's arrival to its answer, by method.",
            ["method"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        pool_in_use = Gauge(
            "portico_agent_db_connections_in_use",
            "Database connections held by a query or transaction now.",
            registry=r,
        )
        pool_in_use.set_function(lambda: db.in_use)
        Gauge(
            "portico_agent_db_pool_size", "Database connections the pool may open.", registry=r
        ).set(db.settings.pool_size)
        self.outbox_waiting = Gauge(
            "portico_agent_mail_outbox_depth",
            "Emails waiting to be sent (not yet sent, not given up on).",
            registry=r,
        )
        self.outbox_dead = Gauge(
            "portico_agent_mail_outbox_dead",
            "Emails given up on (the relay refused them for good); staff should look.",
            registry=r,
        )
        self.database_up = Gauge(
            "portico_agent_database_up",
            "1 if the database answered this scrape's outbox query, else 0.",
            registry=r,
        )

    def watch_connections(self, server: LinkServer) -> None:
        """Report ``server``'s open connections on every scrape."""
        self.connections_open.set_function(lambda: len(server.connections))

    def counting_hellos(self, check: HelloCheck) -> HelloCheck:
        """``check`` (LinkServer's on_hello), counting the HELLOs it accepts."""

        def counted(hello: HelloReceived) -> dict[str, Any]:
            practice = check(hello)  # raises LinkError to refuse: then nothing is counted
            self.connections_accepted.inc()
            return practice

        return counted

    def observe(self, method: str, code: str, seconds: float) -> None:
        self.requests.labels(method, code).inc()
        self.latency.labels(method).observe(seconds)

    async def refresh(self) -> None:
        """Read the values that live in the database (the outbox), just before a scrape."""
        try:
            async with asyncio.timeout(OUTBOX_QUERY_SECONDS):
                counts = await self.db.transaction(_outbox_counts)
        except (DatabaseUnavailable, TimeoutError):
            self.database_up.set(0)  # the outage itself is logged where patients meet it
            return
        except pymysql.MySQLError as exc:  # e.g. `portico-agent migrate` not run yet
            log.warning("metrics.outbox_unreadable", error=type(exc).__name__)
            self.database_up.set(0)
            return
        self.database_up.set(1)
        self.outbox_waiting.set(counts.get(0, 0))
        self.outbox_dead.set(counts.get(1, 0))

    async def serve(self, host: str, port: int) -> None:
        """Serve ``GET /metrics`` on ``host:port`` until :meth:`close`."""
        self._endpoint = MetricsEndpoint(self.registry, log=log, before_scrape=self.refresh)
        await self._endpoint.start(host, port)

    @property
    def address(self) -> tuple[str, int] | None:
        """The (host, port) the endpoint listens on; None when it does not."""
        return None if self._endpoint is None else self._endpoint.address

    async def close(self) -> None:
        if self._endpoint is not None:
            await self._endpoint.close()
            self._endpoint = None


def _outbox_counts(cursor: Any) -> dict[int, int]:
    cursor.execute(_OUTBOX_COUNTS)
    return {int(row["dead"]): int(row["n"]) for row in cursor.fetchall()}


class MeasuredHandler:
    """The link handler, counted and timed: what LinkServer calls instead of AgentMethods."""

    def __init__(self, handler: Handler, methods: Collection[str], metrics: AgentMetrics) -> None:
        """``methods`` are the names ``handler`` serves; any other name a proxy sends is
        counted as "unknown", so a label never holds text from the wire."""
        self.handler = handler
        self.methods = frozenset(methods)
        self.metrics = metrics

    async def __call__(self, request: Request) -> Any:
        method = request.method if request.method in self.methods else UNKNOWN_METHOD
        started = time.perf_counter()
        code = ErrorCode.INTERNAL.value
        try:
            result = await self.handler(request)
            code = "ok"
            return result
        except LinkError as exc:
            code = exc.code if exc.code in _CODES else "other"
            raise
        except asyncio.CancelledError:
            code = _why_cancelled(request)
            raise
        finally:
            self.metrics.observe(method, code, time.perf_counter() - started)


def _why_cancelled(request: Request) -> str:
    # LinkServer cancels the handler when the deadline passes (and answers deadline_exceeded),
    # when the proxy sends CANCEL, and when the link drops.
    loop = asyncio.get_running_loop()
    if request.deadline is not None and loop.time() >= request.deadline:
        return ErrorCode.DEADLINE_EXCEEDED.value
    return "cancelled"
