"""The dial-out supervisor (agent/dialout.py) against real portal link listeners on loopback.

The agent side is a real LinkServer with a client-side TLS config; the portal side is real
LinkAcceptors (one per "replica"). Only the resolver is chosen by the test (which addresses a
name has is a fault of the world outside), and the backoff's randomness: a recording rng that
always waits the longest allowed, so the bounds are asserted from it, never from a clock.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from agent.dialout import KEY_REFUSED, PIN_REFUSED, DialOutSettings, DialOutSupervisor
from protocol.aio import LinkAcceptor, LinkClient, LinkServer, Request
from protocol.events import HelloReceived
from protocol.tls import client_config, server_config
from protocol.transport import Timeouts
from tests.protocol.link_fixtures import PRACTICE, until
from tests.support.keys import make_identity
from tests.support.logs import LogCapture

TENANT = "example-clinic"
TIMEOUTS = Timeouts(handshake=2.0)
BASE, CAP = 0.02, 0.1


class LongestWait(random.Random):
    """Full jitter's worst case, every time: each wait is the ceiling, which is recorded."""

    def __init__(self) -> None:
        super().__init__(0)
        self.ceilings: list[float] = []

    def uniform(self, a: float, b: float) -> float:
        self.ceilings.append(b)
        return b


class Replica:
    """One portal replica's link listener and the links it was handed."""

    def __init__(self, keys: Keys, requester_id: str, office_pin: str | None = None) -> None:
        self.keys = keys
        self.requester_id = requester_id
        self.office_pin = office_pin or keys.agent.pin
        self.clients: list[LinkClient] = []
        self.acceptor = self._acceptor()

    def _acceptor(self) -> LinkAcceptor:
        proxy = self.keys.proxy
        return LinkAcceptor(
            server_config(proxy.key_file, proxy.cert_file, [self.office_pin]),
            tenant_of={self.office_pin: TENANT}.get,
            on_link=lambda tenant, client: self.clients.append(client),
            requester_id=self.requester_id,
            timeouts=TIMEOUTS,
        )

    @property
    def live(self) -> list[LinkClient]:
        return [c for c in self.clients if c.is_usable]

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        await self.acceptor.start(host, port)
        return self.acceptor.port

    async def kill(self) -> None:
        """The replica goes away: its listener and every link it held."""
        await self.acceptor.close()
        for client in self.clients:
            await client.close()
        self.acceptor = self._acceptor()


class Keys:
    def __init__(self, directory: Path) -> None:
        self.agent = make_identity(directory / "agent", "agent")
        self.proxy = make_identity(directory / "proxy", "proxy")
        self.stranger = make_identity(directory / "stranger", "stranger")


async def answer(request: Request) -> Any:
    return {"method": request.method, "tenant": request.tenant}


def on_hello(hello: HelloReceived) -> dict[str, Any]:
    return PRACTICE


class Office:
    """The agent's link server and its supervisor, with the test's resolver and rng."""

    def __init__(
        self,
        keys: Keys,
        endpoints: list[str],
        *,
        addresses: dict[str, list[str]] | None = None,
        links_per_address: int = 1,
        proxy_pins: list[str] | None = None,
    ) -> None:
        agent = keys.agent
        self.server = LinkServer(
            answer,
            tls=client_config(agent.key_file, agent.cert_file, proxy_pins or [keys.proxy.pin]),
            on_hello=on_hello,
            agent_version="0.1-test",
            timeouts=TIMEOUTS,
        )
        self.addresses = addresses or {}
        self.lookups: list[str] = []
        self.rng = LongestWait()
        settings = DialOutSettings(
            tuple(endpoints),
            links_per_address=links_per_address,
            backoff_cap=CAP,
            backoff_base=BASE,
        )
        self.supervisor = DialOutSupervisor(
            self.server, settings, resolve=self.resolve, rng=self.rng
        )

    async def resolve(self, host: str, port: int) -> list[str]:
        self.lookups.append(host)
        if host in self.addresses:
            return list(self.addresses[host])
        return [host]

    async def __aenter__(self) -> Office:
        await self.supervisor.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.supervisor.stop(grace=1)
        await self.server.close(grace=1)


@pytest.fixture
def keys(tmp_path: Path) -> Keys:
    return Keys(tmp_path)


@pytest.fixture
async def replica(keys: Keys) -> AsyncIterator[Replica]:
    replica = Replica(keys, "replica-1")
    await replica.start()
    yield replica
    await replica.kill()


async def test_the_agent_dials_the_portal_and_serves_its_requests(
    keys: Keys, replica: Replica, logs: LogCapture
) -> None:
    endpoint = f"127.0.0.1:{replica.acceptor.port}"
    async with Office(keys, [endpoint]) as office:
        await until(lambda: bool(replica.live))

        assert await replica.live[0].request("practice.info") == {
            "method": "practice.info",
            "tenant": TENANT,
        }
        connected = await logs.wait_for("agent.dial_out.connected")
        assert connected["endpoint"] == endpoint and connected["address"] == "127.0.0.1"
        assert connected["requester_id"] == "replica-1" and connected["after_failures"] == 0
        assert len(office.supervisor.links) == 1


async def test_a_restarted_replica_gets_its_link_back_within_the_backoff_cap(
    keys: Keys, replica: Replica, logs: LogCapture
) -> None:
    port = replica.acceptor.port
    async with Office(keys, [f"127.0.0.1:{port}"]) as office:
        await until(lambda: bool(replica.live))
        await replica.kill()
        await logs.wait_for("agent.dial_out.lost", requester_id="replica-1")
        await logs.wait_for("agent.dial_out.failed", kind="refused")

        await replica.start(port=port)

        await until(lambda: bool(replica.live))
        assert await replica.live[0].request("after.restart") is not None
        back = logs.records("agent.dial_out.connected")[-1]
        assert back["after_failures"] >= 1
        # Every wait was the longest full jitter allows: doubling from BASE, never above CAP.
        assert office.rng.ceilings and max(office.rng.ceilings) <= CAP
        assert office.rng.ceilings[:3] == [BASE, BASE * 2, BASE * 4][: len(office.rng.ceilings)]
        failed = logs.records("agent.dial_out.failed")
        assert all(0 <= record["retry_in"] <= CAP for record in failed)
        assert failed[0]["reason"] == "connection refused (nothing listening there)"


async def test_the_name_is_looked_up_again_before_every_attempt(
    keys: Keys, replica: Replica, logs: LogCapture
) -> None:
    port = replica.acceptor.port
    # The portal moved: the name first gives an address where nothing listens any more.
    addresses = {"links.portal.test": ["127.0.0.3"]}
    async with Office(keys, [f"links.portal.test:{port}"], addresses=addresses) as office:
        await logs.wait_for("agent.dial_out.failed", address="127.0.0.3", kind="refused")
        addresses["links.portal.test"] = ["127.0.0.1"]

        await until(lambda: bool(replica.live))

        await logs.wait_for("agent.dial_out.address_gone", address="127.0.0.3")
        assert (await logs.wait_for("agent.dial_out.connected"))["address"] == "127.0.0.1"
        assert office.lookups.count("links.portal.test") >= 3  # watcher + one per attempt


async def test_a_name_with_two_addresses_gets_a_link_to_each(
    keys: Keys, replica: Replica, logs: LogCapture
) -> None:
    port = replica.acceptor.port
    second = Replica(keys, "replica-2")
    await second.start("127.0.0.2", port)
    addresses = {"links.portal.test": ["127.0.0.1", "127.0.0.2"]}
    try:
        async with Office(keys, [f"links.portal.test:{port}"], addresses=addresses) as office:
            await until(lambda: bool(replica.live) and bool(second.live))

            connected = logs.records("agent.dial_out.connected")
            assert sorted((r["address"], r["requester_id"]) for r in connected) == [
                ("127.0.0.1", "replica-1"),
                ("127.0.0.2", "replica-2"),
            ]
            assert len(office.supervisor.links) == 2
            assert len(replica.live) == len(second.live) == 1
    finally:
        await second.kill()


async def test_a_second_link_landing_on_the_same_replica_is_refused_and_dialled_again(
    keys: Keys, replica: Replica, logs: LogCapture
) -> None:
    """Refused at HELLO, before WELCOME: the portal never holds (and never sends a page's
    request over) a link that is about to go."""
    endpoint = f"127.0.0.1:{replica.acceptor.port}"
    # Two links per address, but only one replica behind it: the second always lands there.
    async with Office(keys, [endpoint], links_per_address=2) as office:
        duplicate = await logs.wait_for("agent.dial_out.failed", kind="duplicate")
        assert "replica-1" in duplicate["reason"]
        await logs.wait_for("agent.dial_out.failed", kind="duplicate", failures=2)

        assert len(office.supervisor.links) == 1
        await until(lambda: len(replica.live) == 1)
        assert len(replica.clients) == 1  # the duplicates were never handed to the portal
        assert max(office.rng.ceilings) <= CAP


async def test_a_portal_key_not_in_proxy_pins_is_refused_and_said_so(
    keys: Keys, replica: Replica, logs: LogCapture
) -> None:
    endpoint = f"127.0.0.1:{replica.acceptor.port}"
    async with Office(keys, [endpoint], proxy_pins=[keys.stranger.pin]) as office:
        failed = await logs.wait_for("agent.dial_out.failed", kind="pin")

        assert failed["reason"] == PIN_REFUSED
        assert "tls.proxy_pins" in failed["reason"]
        assert office.supervisor.links == [] and replica.clients == []


async def test_a_portal_that_does_not_know_this_agent_is_said_so(
    keys: Keys, logs: LogCapture
) -> None:
    replica = Replica(keys, "replica-1", office_pin=keys.stranger.pin)
    port = await replica.start()
    try:
        async with Office(keys, [f"127.0.0.1:{port}"]):
            failed = await logs.wait_for("agent.dial_out.failed", kind="key")

            assert failed["reason"] == KEY_REFUSED
            assert replica.clients == []
    finally:
        await replica.kill()


async def test_stop_says_goaway_and_dials_no_more(
    keys: Keys, replica: Replica, logs: LogCapture
) -> None:
    office = Office(keys, [f"127.0.0.1:{replica.acceptor.port}"])
    await office.supervisor.start()
    await until(lambda: bool(replica.live))
    client = replica.live[0]

    await office.supervisor.stop(grace=1)

    await until(lambda: not client.is_usable)
    await asyncio.sleep(CAP * 3)  # longer than any backoff: a keeper left would have dialled
    assert len(replica.clients) == 1
    assert office.supervisor.links == []
    assert logs.records("agent.dial_out.lost") == []
    await office.server.close(grace=1)


# -- every failure backs off (review of issue 15) ------------------------------------------------


async def test_a_link_the_portal_drops_at_once_is_not_redialled_in_a_loop(
    keys: Keys, replica: Replica, logs: LogCapture
) -> None:
    """A portal that closes each link as it arrives (too many links, a revoked office): each
    short-lived link counts as one more failure, so the waits grow to the cap."""
    replica.acceptor.on_link = lambda tenant, client: asyncio.ensure_future(client.close())
    endpoint = f"127.0.0.1:{replica.acceptor.port}"
    async with Office(keys, [endpoint]) as office:
        await logs.wait_for("agent.dial_out.lost", retry_in=CAP)
        lost = logs.records("agent.dial_out.lost")
        # 0.02, 0.04, 0.08, then the cap: the wait doubles with each short-lived link.
        assert [r["retry_in"] for r in lost[:4]] == [BASE, 2 * BASE, 4 * BASE, CAP]
        assert max(office.rng.ceilings) <= CAP


async def test_an_address_missing_from_one_answer_does_not_stop_its_keeper(
    keys: Keys, replica: Replica, logs: LogCapture
) -> None:
    endpoint = f"portal.test:{replica.acceptor.port}"
    answers = iter([["127.0.0.1"], ["127.0.0.1"], []])  # then 127.0.0.1 for good

    class Flapping(Office):
        async def resolve(self, host: str, port: int) -> list[str]:
            self.lookups.append(host)
            return next(answers, ["127.0.0.1"])

    async with Flapping(keys, [endpoint]) as office:
        await until(lambda: bool(replica.live))
        assert logs.records("agent.dial_out.address_gone") == []
        assert len(office.supervisor.links) == 1


async def test_a_dialler_bug_backs_off_instead_of_spinning(
    keys: Keys, replica: Replica, logs: LogCapture
) -> None:
    endpoint = f"127.0.0.1:{replica.acceptor.port}"
    async with Office(keys, [endpoint]) as office:
        real_dial = office.server.dial
        calls: list[str] = []

        async def broken(host: str, port: int, **options: Any) -> Any:
            calls.append(host)
            if len(calls) <= 3:
                raise RuntimeError("a bug")
            return await real_dial(host, port, **options)

        office.server.dial = broken  # type: ignore[method-assign]
        await until(lambda: bool(replica.live))
    internal = logs.records("agent.dial_out.failed", kind="internal")
    assert [r["failures"] for r in internal] == [1, 2, 3]
    assert logs.records("agent.dial_out.error") and len(calls) == 4
