"""What idle links cost the proxy: memory per configured office and per open link, and idle CPU.

Goals (issue 14): at most 4 KiB per configured office before its link opens, at most 32 KiB per
idle link (rathole holds one in ~36 KB, frps in ~150 KB), and at most 5 us of CPU per link per
second while nothing but keep-alive traffic flows.

This process is the proxy: the real ``AgentConnections`` (proxy/agents.py), one office per
link, with the default timeouts, so its PINGs and its answers to the agents' PINGs are what
the idle CPU counts. The agents are one child process running one real ``LinkServer`` that
accepts every office's link (each HELLO names another office), so none of their memory or CPU
is counted here. The baseline is this process before any office is configured, measured in
the same run: its resident memory, and its CPU while the event loop waits for the same time.

Memory is the process's resident set (/proc/self/statm), the number an operator sees; the
figure per link is the growth since the offices were configured, divided by the links open.

    .venv/bin/python -m bench.idle_links_bench [--quick] [--window SECONDS] [--counts 100,500]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import gc
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

from protocol.aio import LinkServer, Request
from protocol.keys import write_identity
from protocol.service.logs import configure_logging
from protocol.tls import server_config
from proxy.agents import AgentConnections, AgentUnavailable
from proxy.config import ProxyConfig

COUNTS = (100, 500, 1000, 2000)
WINDOW = 30.0  # seconds of idle CPU measured per row: two PING intervals (Timeouts.ping_interval)
DIAL_CONCURRENCY = 32
PAGE = os.sysconf("SC_PAGE_SIZE")
GOAL_TENANT_KIB = 4.0
GOAL_LINK_KIB = 32.0
GOAL_CPU_US = 5.0


def rss_kib() -> float:
    """Resident memory of this process, after a full collection."""
    gc.collect()
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * PAGE / 1024


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def idle_cpu(window: float) -> float:
    """Microseconds of CPU this process used per second while the loop idled for `window`."""
    start_cpu, start = cpu_seconds(), time.monotonic()
    await asyncio.sleep(window)
    return (cpu_seconds() - start_cpu) / (time.monotonic() - start) * 1e6


# -- the agents' side (child process) ----------------------------------------------------------


async def respond(directory: Path) -> None:
    """Accept every office's link until stdin closes; print the port first."""
    proxy_pin = (directory / "proxy.pin").read_text()
    tls = server_config(directory / "agent/key.pem", directory / "agent/cert.pem", [proxy_pin])

    async def handler(request: Request) -> dict[str, Any]:
        return {}

    server = LinkServer(
        handler,
        tls=tls,
        on_hello=lambda hello: {"name": "Bench", "phone": "+1 555 0100", "timezone": "UTC"},
        agent_version="bench",
        allowed_networks=["127.0.0.0/8"],
    )
    await server.start("127.0.0.1", 0)
    print(server.port, flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)
    await server.close(grace=1.0)


# -- the proxy's side (this process) -----------------------------------------------------------


def proxy_config(directory: Path, port: int, agent_pin: str, tenants: int) -> ProxyConfig:
    office = {"host": "127.0.0.1", "port": port, "pins": [agent_pin], "phone": "+1 555 0100"}
    offices = {f"office{i}": {**office, "name": f"Office {i}"} for i in range(tenants)}
    return bench_proxy_config(directory, offices)


def bench_proxy_config(
    directory: Path, tenants: dict[str, dict[str, Any]], **link: Any
) -> ProxyConfig:
    """A proxy config for `tenants`, with the proxy's key in ``directory/proxy`` and the
    ``link`` section's other settings (say, ``listen``) from `link`."""
    secret = directory / "secret"
    secret.write_text(base64.b64encode(os.urandom(48)).decode() + "\n")
    return ProxyConfig.model_validate(
        {
            "portal_domain": "localhost",
            "link": {
                "key_file": str(directory / "proxy/key.pem"),
                "cert_file": str(directory / "proxy/cert.pem"),
                **link,
            },
            "secret_file": str(secret),
            "metrics": {"enabled": False},
            "tenants": tenants,
        }
    )


async def open_links(agents: AgentConnections, names: list[str]) -> None:
    """One request per office, so each office's link is dialled and left open."""
    gate = asyncio.Semaphore(DIAL_CONCURRENCY)

    async def touch(name: str) -> None:
        async with gate:
            for _ in range(100):
                try:
                    await agents.request(name, "bench.ping", {})
                    return
                except AgentUnavailable:
                    await asyncio.sleep(0.05)  # still dialling, or backing off: ask again
            raise RuntimeError(f"no link to {name}")

    await asyncio.gather(*(touch(name) for name in names))


def verdict(value: float, goal: float) -> str:
    return "ok" if value <= goal else "MISSED"


@contextlib.contextmanager
def listening_agents(directory: Path) -> Iterator[tuple[int, str]]:
    """The agents' process (:func:`respond`) for as long as the block runs: its port and pin."""
    agent_pin = write_identity(directory / "agent", "agent")
    (directory / "proxy.pin").write_text(write_identity(directory / "proxy", "proxy"))
    agents_side = subprocess.Popen(
        [sys.executable, "-m", "bench.idle_links_bench", "--respond", str(directory)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert agents_side.stdout is not None
        yield int(agents_side.stdout.readline()), agent_pin
    finally:
        if agents_side.stdin is not None:
            agents_side.stdin.close()
        agents_side.wait(timeout=30)


def office_names(config: ProxyConfig) -> list[str]:
    """The bench's offices in the order they are opened: office0, office1, ..."""
    return sorted(config.tenants, key=lambda n: int(n.removeprefix("office")))


Row = tuple[int, float, float, float]  # links, RSS KiB, KiB per link, CPU us per link per second


async def idle_rows(
    open_more: Callable[[int, int], Awaitable[None]],
    counts: list[int],
    window: float,
    before_rss: float,
    before_cpu: float,
) -> AsyncIterator[Row]:
    """For each count: ``open_more(opened, count)`` brings the open links up to it; then the
    process's RSS, its growth since `before_rss` per link, and the idle CPU per link beyond
    `before_cpu` (both measured with everything set up but no link open)."""
    opened = 0
    for count in counts:
        await open_more(opened, count)
        opened = count
        await asyncio.sleep(1.0)  # handshakes' leftovers freed, first liveness timers set
        rss = rss_kib()
        cpu = (await idle_cpu(window) - before_cpu) / count
        yield count, rss, (rss - before_rss) / count, cpu


async def measure(directory: Path, counts: list[int], window: float) -> None:
    with listening_agents(directory) as (port, agent_pin):
        await asyncio.sleep(0.5)  # the import of everything settles before the baseline
        base_rss = rss_kib()
        base_cpu = await idle_cpu(window)
        print(f"baseline (this process before any office): RSS {base_rss / 1024:.1f} MiB, ", end="")
        print(f"idle CPU {base_cpu:.1f} us/s")

        tenants = max(counts)
        config = proxy_config(directory, port, agent_pin, tenants)
        config_rss = rss_kib()
        agents = AgentConnections(config, requester_id="bench")
        tenants_rss = rss_kib()
        per_config = (config_rss - base_rss) / tenants
        per_keeping = (tenants_rss - config_rss) / tenants
        per_tenant = per_config + per_keeping
        print(
            f"per configured office before any link ({tenants} offices): "
            f"config {per_config:.1f} KiB + link keeping {per_keeping:.1f} KiB "
            f"= {per_tenant:.1f} KiB   goal <= {GOAL_TENANT_KIB:.0f} KiB  "
            f"{verdict(per_tenant, GOAL_TENANT_KIB)}"
        )
        idle_with_tenants = await idle_cpu(window)
        print(f"idle CPU with {tenants} offices and no link: {idle_with_tenants:.1f} us/s")
        print()
        print(f"{'links':>6} {'RSS MiB':>8} {'KiB/link':>9}  goal <= {GOAL_LINK_KIB:.0f}", end="")
        print(f"  {'CPU us/link/s':>14}  goal <= {GOAL_CPU_US:.0f}")
        names = office_names(config)

        async def open_more(opened: int, count: int) -> None:
            await open_links(agents, names[opened:count])

        rows = idle_rows(open_more, counts, window, tenants_rss, idle_with_tenants)
        async for count, rss, per_link, cpu in rows:
            print(
                f"{count:>6} {rss / 1024:>8.1f} {per_link:>9.1f}"
                f"  {verdict(per_link, GOAL_LINK_KIB):>10}"
                f"  {cpu:>14.2f}  {verdict(cpu, GOAL_CPU_US):>9}"
            )
        states = agents.link_states().values()
        connected = sum(1 for s in states if s.state == "connected")
        print(f"\n{connected} of {max(counts)} links still connected after the idle windows")
        await agents.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="50 and 100 links, 3 s windows")
    parser.add_argument("--window", type=float, help=f"idle seconds per row (default {WINDOW})")
    parser.add_argument("--counts", help="comma-separated link counts (default 100,500,1000,2000)")
    parser.add_argument("--respond", type=Path, help=argparse.SUPPRESS)  # the agents' process
    args = parser.parse_args()
    configure_logging("error")  # one line per link would be the bench's own cost
    if args.respond is not None:
        asyncio.run(respond(args.respond))
        return
    counts = [50, 100] if args.quick else list(COUNTS)
    if args.counts:
        counts = [int(c) for c in args.counts.split(",")]
    window = args.window or (3.0 if args.quick else WINDOW)
    print(f"Idle links: {counts} links, {window:.0f} s of idle CPU per row; proxy side only\n")
    with tempfile.TemporaryDirectory() as directory:
        asyncio.run(measure(Path(directory), sorted(counts), window))


if __name__ == "__main__":
    main()
