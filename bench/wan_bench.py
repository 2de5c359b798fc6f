"""WAN benchmark: a patient's pages when the link between proxy and agent crosses a WAN.

Budget (issue 14): every page's link work in one round trip, so a page takes at most 1.1x the
round-trip time (RTT) between proxy and agent; sign-in at most one RTT plus its password hash.

A relay between the proxy and the agent holds every chunk of bytes for half the RTT (--rtt,
40 ms: 20 ms each way) before passing it on, in order, as a WAN does. A signed-in patient then
opens each page with the real proxy app (aiohttp server, the portal's middlewares, templates),
the real agent (its link server, MariaDB) and an aiohttp client, one page at a time, and each
page's latency is the median of --repeat loads. Measured in the same run:

- the baseline: the RTT itself, as a one-byte echo through the same relay;
- each page's local time, through the same relay with no delay (rendering, the agent's
  handlers, MariaDB: what a page costs besides the WAN).

Printed per page: local ms, latency ms at the RTT, latency / RTT (the goal, <= 1.1), and
(latency - local) / RTT, the round trips the patient waited for. Where latency / RTT misses
while the round trips are 1, the local time is the reason. Everything runs in this one process
and event loop, one request at a time; nothing asserts a wall-clock time.

    .venv/bin/python -m bench.wan_bench [--quick] [--rtt 40] [--repeat 15]   (from the repo root)

Uses the MariaDB the tests use (PORTICO_TEST_DB_* or root@127.0.0.1:3306).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

import pymysql
import structlog

from proxy.agents import AgentConnections
from tests.agent.access_fixtures import PASSWORD, access_practice, email_of
from tests.agent.forms.seeding import CHECKUP, assign_form
from tests.agent.messages.seeding import send_office_message
from tests.proxy.agent_fixtures import ProxySetup
from tests.proxy.portal import Browser, Page, Portal, proxy_config, serve_proxy
from tests.support.database import configured_server, connect, fresh_database
from tests.support.keys import make_keys
from tests.support.practice import DR_ADAMS, FOLLOW_UP, seed_small_practice

GOAL = 1.1


class DelayRelay:
    """TCP relay that delivers each chunk `delay` seconds after it arrived, in order."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.delay = 0.0
        self.port = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
            await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
        except (OSError, asyncio.CancelledError):
            pass
        finally:
            writer.transport.abort()
            self._tasks.discard(task)

    async def _pipe(self, src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def deliver() -> None:
            while True:
                due, data = await queue.get()
                if not data:
                    break
                wait = due - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                dst.write(data)

        delivering = asyncio.ensure_future(deliver())
        try:
            while data := await src.read(65536):
                queue.put_nowait((loop.time() + self.delay, data))
            queue.put_nowait((0.0, b""))
            await delivering
        finally:
            delivering.cancel()
            dst.transport.abort()


async def echo_rtt(relay: DelayRelay, echo_port: int, repeat: int) -> float:
    """Median seconds for one byte through the relay to an echo server and back."""
    target, relay.target_port = relay.target_port, echo_port
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", relay.port)
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            writer.write(b"x")
            await reader.readexactly(1)
            times.append(time.perf_counter() - started)
        writer.close()
        return statistics.median(times)
    finally:
        relay.target_port = target


async def _echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError):
        while data := await reader.read(65536):
            writer.write(data)
    writer.close()


def _form_url(page: Page, action: str, **typed: str) -> str:
    values = {**page.form(action).fields, **typed}
    query = urlencode({k: v for k, v in values.items() if v != ""})
    return f"{action}?{query}" if query else action


@dataclass
class Pages:
    """The URL of each page (in the order a patient meets them), found by walking the site."""

    urls: list[tuple[str, str]]


async def find_pages(browser: Browser, visit: int, thread: int, form: int) -> Pages:
    urls = [("appointments", "/appointments")]
    home = await browser.get("/appointments")
    (move,) = home.links(rf"/appointments/{visit}/reschedule\b")
    moving = f"/appointments/{visit}/reschedule"
    for name, flow, first in (("book", "/book", "/book"), ("move", moving, move)):
        urls.append((f"{name}: first step", first))
        step = await browser.get(first)
        if name == "book":
            url = _form_url(step, flow, type=str(FOLLOW_UP))
            urls.append((f"{name}: provider", url))
            step = await browser.get(url)
        url = _form_url(step, flow, provider="any")
        urls.append((f"{name}: day", url))
        step = await browser.get(url)
        (day,) = step.links(r"day=2026-11-24")
        urls.append((f"{name}: time", day))
        step = await browser.get(day)
        url = _form_url(step, f"{flow}/confirm", start="2026-11-24T15:30:00Z")
        urls.append((f"{name}: confirm", url))
    urls += [
        ("cancel page", f"/appointments/{visit}/cancel"),
        ("messages", "/messages"),
        ("thread", f"/messages/{thread}"),
        ("new message", "/messages/new"),
        ("forms", "/forms"),
        ("form", f"/forms/{form}"),
        ("records", "/records"),
        ("account", "/account"),
    ]
    return Pages(urls)


async def median_seconds(load: Callable[[], Awaitable[object]], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        await load()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


@contextlib.asynccontextmanager
async def wan_portal(directory: Path) -> AsyncIterator[tuple[Portal, DelayRelay, int]]:
    server = configured_server()
    try:
        connect(server.settings(""), connect_timeout=5).close()
    except pymysql.MySQLError as exc:
        raise SystemExit(f"MariaDB is not reachable ({exc}): scripts/ensure-mariadb.sh") from None
    keys = make_keys(directory / "keys")
    echo = await asyncio.start_server(_echo, "127.0.0.1", 0)
    echo_port = echo.sockets[0].getsockname()[1]
    with fresh_database(server, prefix="portico_bench_") as settings:
        seed_small_practice(settings)
        # The production password hasher: sign-in's budget is one RTT plus its hash.
        async with access_practice(settings, keys, production_hasher=True) as office:
            relay = DelayRelay(office.agent.server.port)
            await relay.start()
            # Sign-in is loaded many times from one address: past the per-minute form limit.
            limits = {"sign_in_per_minute": 1000, "burst": 1000}
            config = proxy_config(ProxySetup(keys, directory), relay.port, rate_limit=limits)
            agents = AgentConnections(config, requester_id="wan-bench")
            try:
                async with serve_proxy(config, agents) as client:
                    yield Portal(office, config, client, agents), relay, echo_port
            finally:
                await agents.close()
                await relay.close()
                echo.close()


async def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as directory:
        async with wan_portal(Path(directory)) as (site, relay, echo_port):
            db = site.office.settings
            visit = site.add_appointment(
                1, DR_ADAMS, FOLLOW_UP, datetime(2026, 11, 25, 15, 0, tzinfo=UTC), 30
            )
            thread = send_office_message(db, 1, "Lab results", "All normal.")
            send_office_message(db, 1, "Flu shots", "Available.")
            form = assign_form(db, 1, CHECKUP)
            browser = await site.signed_in(1)
            pages = await find_pages(browser, visit, thread, form)

            async def sign_in_post() -> Callable[[], Awaitable[object]]:
                fresh = site.browser()
                page = await fresh.get("/sign-in")
                fields = {**page.form("/sign-in").fields, "login": email_of(1)}
                fields["password"] = PASSWORD
                kept = dict(fresh.cookies)

                async def post() -> None:
                    page = await fresh.post("/sign-in", fields, follow=False)
                    assert page.status == 303, page.status
                    fresh.cookies = dict(kept)  # signed out again: the same form is valid

                return post

            loads: list[tuple[str, Callable[[], Awaitable[object]]]] = [
                (name, lambda url=url: browser.get(url, follow=False)) for name, url in pages.urls
            ]
            loads.append(("sign-in (POST)", await sign_in_post()))

            relay.delay = args.rtt / 2000
            rtt = await echo_rtt(relay, echo_port, args.repeat * 2)
            local: dict[str, float] = {}
            wan: dict[str, float] = {}
            for name, load in loads:
                await load()  # warm: templates compiled, caches filled
                relay.delay = 0.0
                local[name] = await median_seconds(load, args.repeat)
                relay.delay = args.rtt / 2000
                wan[name] = await median_seconds(load, args.repeat)
            print_table(rtt, local, wan)


def print_table(rtt: float, local: dict[str, float], wan: dict[str, float]) -> None:
    print(f"baseline: one-byte echo through the relay, RTT {rtt * 1000:.1f} ms")
    print(
        f"{'page':<22} {'local ms':>9} {'WAN ms':>8} {'WAN/RTT':>8} {'trips':>6}  "
        f"goal WAN/RTT <= {GOAL}"
    )
    for name, seconds in wan.items():
        ratio = seconds / rtt
        trips = (seconds - local[name]) / rtt
        verdict = "ok" if ratio <= GOAL else "MISSED"
        if name.startswith("sign-in"):
            # Its budget: one RTT plus the password hash, which is in its local time.
            verdict = "ok" if trips <= GOAL else "MISSED"
            verdict += " (goal: trips <= 1.1)"
        print(
            f"{name:<22} {local[name] * 1000:>9.1f} {seconds * 1000:>8.1f} {ratio:>8.2f} "
            f"{trips:>6.2f}  {verdict}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 loads per page")
    parser.add_argument("--rtt", type=float, default=40.0, help="round-trip time to add, ms")
    parser.add_argument("--repeat", type=int, default=15, help="loads per page and setting")
    args = parser.parse_args()
    if args.quick:
        args.repeat = 3
    logging.basicConfig(level=logging.WARNING)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
