"""The agent's Prometheus endpoint, scraped over HTTP after real requests on a real link.

Each test runs the small practice's agent with its metrics on a free loopback port, makes link
requests as the proxy would, and reads what a Prometheus server would read.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from agent.clock import FixedClock
from agent.config import AgentConfig
from agent.daemon import Agent
from agent.db.pool import DatabaseSettings
from protocol.aio import LinkClient, LinkRefused, RemoteError
from protocol.tls import client_config
from tests.support.logs import captured_logs
from tests.support.practice import (
    DR_ADAMS,
    FOLLOW_UP,
    NOW,
    RunningPractice,
    agent_config_data,
    cheap_hasher,
)

CANARY = "Canary-Zebulon-1970-01-01"
REQUESTS = "portico_agent_link_requests_total"
LATENCY = "portico_agent_link_request_duration_seconds"
# Tuesday 09:00 in New York: on the grid, inside working hours, past the 24 hours' notice.
TUESDAY_9AM = "2026-11-24T14:00:00Z"


class Scrape:
    """One scrape of a metrics endpoint: the raw text and its samples."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.samples = {
            (sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
        }

    def value(self, name: str, **labels: str) -> float:
        """The sample's value; 0 for a labelled series never touched (Prometheus's view too)."""
        return self.samples.get((name, frozenset(labels.items())), 0.0)

    def label_values(self, name: str, label: str) -> set[str]:
        return {dict(labels)[label] for n, labels in self.samples if n == name}


async def scrape(agent: Agent, path: str = "/metrics") -> Scrape:
    assert agent.metrics.address is not None
    host, port = agent.metrics.address
    async with aiohttp.ClientSession() as http, http.get(f"http://{host}:{port}{path}") as reply:
        assert reply.status == 200, reply.status
        assert reply.headers["Content-Type"].startswith("text/plain")
        return Scrape(await reply.text())


def link_tls(keys: Path) -> Any:
    return client_config(
        keys / "proxy" / "key.pem", keys / "proxy" / "cert.pem", [(keys / "agent.pin").read_text()]
    )


async def connect(agent: Agent, keys: Path, tenant: str = "example-clinic") -> LinkClient:
    return await LinkClient.connect(
        "127.0.0.1",
        agent.server.port,
        tls=link_tls(keys),
        tenant=tenant,
        requester_id="metrics-test",
    )


@asynccontextmanager
async def measured_practice(
    settings: DatabaseSettings, keys: Path, **metrics: Any
) -> AsyncIterator[RunningPractice]:
    """The small practice's agent with metrics on (any free port unless given) and one link."""
    data = agent_config_data(settings, keys)
    data["metrics"] = {"port": 0, **metrics}
    clock = FixedClock(NOW)
    agent = Agent.build(AgentConfig.model_validate(data), clock=clock, hasher=cheap_hasher())
    await agent.start(port=0)
    try:
        client = await connect(agent, keys)
        try:
            yield RunningPractice(agent, client, clock, settings)
        finally:
            await client.close()
    finally:
        await agent.stop(grace=5)


@pytest.fixture
async def office(practice_db: DatabaseSettings, link_keys: Path) -> AsyncIterator[RunningPractice]:
    async with measured_practice(practice_db, link_keys) as running:
        yield running


async def until_scraped(agent: Agent, name: str, expected: float) -> Scrape:
    """Scrape until ``name`` reads ``expected`` (the server notices a closed link a moment
    after the client does)."""
    async with asyncio.timeout(5):
        while (result := await scrape(agent)).value(name) != expected:
            await asyncio.sleep(0.01)
    return result


# -- requests ------------------------------------------------------------------------------------


async def test_requests_are_counted_by_method_and_outcome(office: RunningPractice) -> None:
    await office.call("practice.info", patient=None)
    await office.call("practice.info", patient=None)
    with pytest.raises(RemoteError):
        await office.call("booking.book", appointment_type_id="one", start=TUESDAY_9AM)
    with pytest.raises(RemoteError):
        await office.client.request("appointments.list", {}, session=None)

    result = await scrape(office.agent)

    assert result.value(REQUESTS, method="practice.info", code="ok") == 2
    assert result.value(REQUESTS, method="booking.book", code="invalid_params") == 1
    assert result.value(REQUESTS, method="appointments.list", code="unauthenticated") == 1


async def test_each_request_is_timed_under_its_method(office: RunningPractice) -> None:
    for _ in range(3):
        await office.call("booking.appointment_types", patient=None)

    result = await scrape(office.agent)

    method = "booking.appointment_types"
    assert result.value(f"{LATENCY}_count", method=method) == 3
    assert result.value(f"{LATENCY}_bucket", method=method, le="+Inf") == 3
    assert 0 < result.value(f"{LATENCY}_sum", method=method) < 30


async def test_a_method_the_agent_does_not_have_is_counted_as_unknown(
    office: RunningPractice,
) -> None:
    with pytest.raises(RemoteError):
        await office.client.request(f"records.{CANARY}", {})

    result = await scrape(office.agent)

    assert result.value(REQUESTS, method="unknown", code="not_found") == 1
    assert result.label_values(REQUESTS, "method") == {"unknown"}


async def test_nothing_a_request_carries_reaches_the_scrape(office: RunningPractice) -> None:
    # Patient data, a session token, free text and the client's details, everywhere a request
    # can carry them; some requests succeed, some fail, one names no method at all.
    client = {"ip": "127.0.0.1", "user_agent": CANARY}
    with pytest.raises(RemoteError):
        await office.client.request(
            "access.sign_in",
            {"login": f"{CANARY}@example.org", "password": CANARY},
            session=CANARY,
            idempotency_key=CANARY,
            client=client,
        )
    with pytest.raises(RemoteError):
        await office.client.request("access.register", {"first_name": CANARY}, client=client)
    with pytest.raises(RemoteError):
        await office.client.request(CANARY, {"note": CANARY}, session=CANARY)
    await office.client.request(
        "booking.book",
        {"appointment_type_id": FOLLOW_UP, "provider_id": DR_ADAMS, "start": TUESDAY_9AM},
        session=office.session_for(1),
        idempotency_key=CANARY,
        client=client,
    )

    result = await scrape(office.agent)

    assert result.value(REQUESTS, method="booking.book", code="ok") == 1  # scraped after them
    assert CANARY.lower() not in result.text.lower()
    assert "example.org" not in result.text
    assert office.session_for(1) not in result.text


# -- connections ---------------------------------------------------------------------------------


async def test_links_are_counted_when_opened_and_when_closed(
    office: RunningPractice, link_keys: Path
) -> None:
    opened = "portico_agent_link_connections"
    accepted = "portico_agent_link_connections_accepted_total"
    first = await scrape(office.agent)
    assert (first.value(opened), first.value(accepted)) == (1, 1)

    second = await connect(office.agent, link_keys)
    both = await scrape(office.agent)
    assert (both.value(opened), both.value(accepted)) == (2, 2)

    await second.close()
    after = await until_scraped(office.agent, opened, 1)
    assert after.value(accepted) == 2  # a total: closing a link does not take it back


async def test_a_hello_for_another_practice_is_not_counted_as_accepted(
    office: RunningPractice, link_keys: Path
) -> None:
    with pytest.raises(LinkRefused):
        await connect(office.agent, link_keys, tenant="another-clinic")

    result = await scrape(office.agent)

    assert result.value("portico_agent_link_connections_accepted_total") == 1


# -- database ------------------------------------------------------------------------------------


async def test_outbox_depth_counts_mail_waiting_but_not_sent_or_given_up(
    office: RunningPractice,
) -> None:
    later = (NOW + timedelta(days=1)).replace(tzinfo=None)  # not due: the worker leaves it
    rows = [(None, 0)] * 3 + [(None, 1)] + [(NOW.replace(tzinfo=None), 0)] * 2
    connection = office.connect()
    with connection, connection.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO portal_outbox (to_address, subject, body_text, body_html, created_at,"
            " next_attempt_at, sent_at, dead) VALUES ('pat1@example.org', 'Hello', '', '',"
            " %s, %s, %s, %s)",
            [(later, later, sent_at, dead) for sent_at, dead in rows],
        )

    result = await scrape(office.agent)

    assert result.value("portico_agent_mail_outbox_depth") == 3
    assert result.value("portico_agent_mail_outbox_dead") == 1
    assert result.value("portico_agent_database_up") == 1


async def test_a_booking_waiting_for_a_lock_shows_as_a_connection_in_use(
    office: RunningPractice,
) -> None:
    in_use = "portico_agent_db_connections_in_use"
    session = office.session_for(1)
    assert (await scrape(office.agent)).value(in_use) == 0

    # Another transaction (the practice's own system, say) holds the provider's row, so the
    # agent's booking transaction waits inside its worker holding a pool connection.
    blocker = office.connect()
    blocker.autocommit(False)
    with blocker.cursor() as cursor:
        cursor.execute("SELECT id FROM providers WHERE id = %s FOR UPDATE", (DR_ADAMS,))
    booking = asyncio.create_task(
        office.client.request(
            "booking.book",
            {"appointment_type_id": FOLLOW_UP, "provider_id": DR_ADAMS, "start": TUESDAY_9AM},
            session=session,
            deadline=20,
        )
    )
    try:
        waiting = await until_scraped(office.agent, in_use, 1)
        assert waiting.value("portico_agent_db_pool_size") == 8
    finally:
        blocker.commit()
        blocker.close()
    assert (await booking)["start"] == TUESDAY_9AM
    assert (await scrape(office.agent)).value(in_use) == 0


# -- the endpoint itself -------------------------------------------------------------------------


def test_metrics_are_on_by_default_and_only_on_loopback() -> None:
    defaults = AgentConfig.model_fields["metrics"].get_default(call_default_factory=True)

    assert (defaults.enabled, defaults.host, defaults.port) == (True, "127.0.0.1", 9123)


async def test_the_endpoint_listens_on_loopback_unless_told_otherwise(
    office: RunningPractice,
) -> None:
    assert office.agent.metrics.address is not None
    assert office.agent.metrics.address[0] == "127.0.0.1"
    assert office.agent.metrics.address[1] != office.agent.server.port


async def test_disabled_metrics_open_no_port(
    practice_db: DatabaseSettings, link_keys: Path
) -> None:
    async with measured_practice(practice_db, link_keys, enabled=False) as running:
        assert running.agent.metrics.address is None
        assert (await running.call("practice.info", patient=None))["name"]


async def test_a_taken_metrics_port_is_logged_and_patients_are_still_served(
    practice_db: DatabaseSettings, link_keys: Path
) -> None:
    with socket.socket() as squatter, captured_logs() as logs:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]
        async with measured_practice(practice_db, link_keys, port=taken) as running:
            info = await running.call("practice.info", patient=None)

    assert info["name"] == "Example Family Clinic"
    assert running.agent.metrics.address is None
    assert logs.records("metrics.listen_failed", port=taken)
