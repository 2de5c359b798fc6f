"""What an idle dial-in link costs the proxy (issue 15), next to an idle listen-mode link.

Goal (issue 15): at most 64 KiB of proxy memory per idle link an agent dialled in on, for
1,000 agents, printed next to the same figure for listen mode.

Each mode's proxy side runs in a fresh process of its own, one after the other, so that neither
inherits the other's freed-but-kept heap (CPython and malloc keep most freed memory, so a
second measurement in one process would look cheaper than it is). In each, the baseline is that
process before anything is set up, measured in the same run; the figure per link is the growth
of its resident set (/proc/self/statm) from "set up, no link open" to "N links open and idle",
divided by N, exactly as ``bench.idle_links_bench`` measures it (its functions are used here).

The proxy side is the real ``AgentConnections`` (proxy/agents.py) in both modes, one office
per link, default timeouts, and one request per link once it is up (so both have carried the
same traffic):

- listen: it dials one child process running one ``LinkServer`` that answers every office
  (``bench.idle_links_bench``'s set-up).
- dial-in: every office is ``mode: dial_out`` and the agents dial its link listener
  (``link.listen``: proxy/dial_in.py's ``DialInLinks`` around a ``protocol.aio.LinkAcceptor``
  whose TLS config holds every office's pin). The agents are one child process with one
  ``LinkServer(...).dial(...)`` per office, each office with its own Ed25519 key pair (they take
  well under a millisecond each), so each link's pin names its own office, and each agent
  checks that the HELLO names it.

Idle CPU is this process's CPU per second while the links idle (default timeouts, so the PINGs
are real), minus the same with everything set up and no link open, per link.

    .venv/bin/python -m bench.dial_in_links_bench [--quick] [--window SECONDS] [--counts 100,500]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.idle_links_bench import (
    DIAL_CONCURRENCY,
    bench_proxy_config,
    idle_cpu,
    idle_rows,
    listening_agents,
    office_names,
    open_links,
    proxy_config,
    rss_kib,
    verdict,
)
from protocol.aio import LinkServer, Request
from protocol.errors import ErrorCode, LinkError
from protocol.events import HelloReceived
from protocol.keys import write_identity
from protocol.service.logs import configure_logging
from protocol.tls import client_config
from proxy.agents import AgentConnections

COUNTS = (100, 500, 1000)
WINDOW = 30.0  # seconds of idle CPU per row: two PING intervals, as in idle_links_bench
GOAL_LINK_KIB = 64.0
OPEN_TIMEOUT = 300.0  # seconds for one row's links to be handed over before the bench gives up
MODES = ("listen", "dial-in")
PHONE = "+1 555 0100"


# -- the agents that dial in (grandchild process) ----------------------------------------------


async def dial_in(directory: Path, offices: int) -> None:
    """Make one key pair per office, print "ready", then for each "PORT COUNT" line on stdin
    dial the offices not yet dialled up to COUNT; close every link when stdin closes."""
    proxy_pin = (directory / "proxy.pin").read_text()
    pins = [write_identity(directory / f"office{i}", f"office{i}") for i in range(offices)]
    (directory / "offices.json").write_text(json.dumps(pins))

    async def handler(request: Request) -> dict[str, Any]:
        return {}

    def agent(name: str) -> LinkServer:
        def on_hello(hello: HelloReceived) -> dict[str, Any]:
            if hello.tenant != name:  # the proxy named the office by this key's pin
                raise LinkError(ErrorCode.FORBIDDEN, f"{name}'s key was taken for {hello.tenant}")
            return {"name": name, "phone": PHONE, "timezone": "UTC"}

        tls = client_config(
            directory / name / "key.pem", directory / name / "cert.pem", [proxy_pin]
        )
        return LinkServer(handler, tls=tls, on_hello=on_hello, agent_version="bench")

    servers = [agent(f"office{i}") for i in range(offices)]
    print("ready", flush=True)
    loop = asyncio.get_running_loop()
    gate = asyncio.Semaphore(DIAL_CONCURRENCY)
    dialled = 0

    async def dial(server: LinkServer, port: int) -> None:
        async with gate:
            await server.dial("127.0.0.1", port)

    while line := await loop.run_in_executor(None, sys.stdin.readline):
        port, count = (int(word) for word in line.split())
        await asyncio.gather(*(dial(server, port) for server in servers[dialled:count]))
        dialled = count
    await asyncio.gather(*(server.close(grace=1.0) for server in servers))


# -- the proxy's side, one mode per process (child process) ------------------------------------


def connected(agents: AgentConnections) -> int:
    return sum(status.links for status in agents.link_states().values())


async def settled_baseline(window: float) -> tuple[float, float]:
    """This process's RSS and idle CPU once the imports have settled, before any set-up."""
    await asyncio.sleep(0.5)
    return rss_kib(), await idle_cpu(window)


async def measure_listen(directory: Path, counts: list[int], window: float) -> dict[str, Any]:
    with listening_agents(directory) as (port, agent_pin):
        base_rss, base_cpu = await settled_baseline(window)
        config = proxy_config(directory, port, agent_pin, max(counts))
        agents = AgentConnections(config, requester_id="bench")
        set_up_rss, set_up_cpu = rss_kib(), await idle_cpu(window)
        names = office_names(config)

        async def open_more(opened: int, count: int) -> None:
            await open_links(agents, names[opened:count])

        rows = [r async for r in idle_rows(open_more, counts, window, set_up_rss, set_up_cpu)]
        still_up = connected(agents)
        await agents.close()
    return {
        "baseline": [base_rss, base_cpu],
        "set_up": [set_up_rss, set_up_cpu],
        "rows": rows,
        "connected": still_up,
    }


async def measure_dial_in(directory: Path, counts: list[int], window: float) -> dict[str, Any]:
    (directory / "proxy.pin").write_text(write_identity(directory / "proxy", "proxy"))
    command = [sys.executable, "-m", "bench.dial_in_links_bench"]
    agents_side = subprocess.Popen(
        [*command, "--dial-in", str(directory), "--offices", str(max(counts))],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert agents_side.stdin is not None and agents_side.stdout is not None
    commands = agents_side.stdin
    try:
        if agents_side.stdout.readline().strip() != "ready":
            raise RuntimeError("the agents' process did not start")
        base_rss, base_cpu = await settled_baseline(window)
        pins: list[str] = json.loads((directory / "offices.json").read_text())
        offices = {
            f"office{i}": {"mode": "dial_out", "pins": [pin], "name": f"Office {i}", "phone": PHONE}
            for i, pin in enumerate(pins)
        }
        listen = {"host": "127.0.0.1", "port": 0}
        config = bench_proxy_config(directory, offices, listen=listen)
        agents = AgentConnections(config, requester_id="bench")
        await agents.start()
        port = agents.link_listener_port
        set_up_rss, set_up_cpu = rss_kib(), await idle_cpu(window)
        names = office_names(config)

        async def open_more(opened: int, count: int) -> None:
            commands.write(f"{port} {count}\n")
            commands.flush()
            deadline = time.monotonic() + OPEN_TIMEOUT
            while (up := connected(agents)) < count:  # polled: a reader thread would add memory
                if agents_side.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{up} of {count} agents dialled in")
                await asyncio.sleep(0.2)
            await open_links(agents, names[opened:count])  # one request each, as listen mode

        rows = [r async for r in idle_rows(open_more, counts, window, set_up_rss, set_up_cpu)]
        still_up = connected(agents)
        await agents.close()
    finally:
        commands.close()
        agents_side.wait(timeout=60)
    return {
        "baseline": [base_rss, base_cpu],
        "set_up": [set_up_rss, set_up_cpu],
        "rows": rows,
        "connected": still_up,
    }


# -- this process: run each mode, print the table ----------------------------------------------


def run_mode(mode: str, counts: list[int], window: float) -> dict[str, Any]:
    argv = ["--proxy", mode, "--counts", ",".join(map(str, counts)), "--window", str(window)]
    done = subprocess.run(
        [sys.executable, "-m", "bench.dial_in_links_bench", *argv],
        stdout=subprocess.PIPE,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return result


def report(results: dict[str, dict[str, Any]], counts: list[int]) -> None:
    for mode, result in results.items():
        (base_rss, base_cpu), (set_up_rss, set_up_cpu) = result["baseline"], result["set_up"]
        print(
            f"{mode:>7}: baseline (proxy process before any set-up) RSS {base_rss / 1024:.1f} MiB,"
            f" idle CPU {base_cpu:.1f} us/s; set up for {max(counts)} offices, no link:"
            f" +{(set_up_rss - base_rss) / 1024:.1f} MiB, idle CPU {set_up_cpu:.1f} us/s"
        )
    print()
    print(
        f"{'links':>6} | {'listen KiB/link':>15} | {'dial-in KiB/link':>16} | "
        f"goal {GOAL_LINK_KIB:.0f} | {'met?':>6} | "
        f"{'listen CPU us/link/s':>20} | dial-in CPU us/link/s"
    )
    listen, dialled = results["listen"]["rows"], results["dial-in"]["rows"]
    for (count, _, listen_kib, listen_cpu), (_, _, dial_in_kib, dial_in_cpu) in zip(
        listen, dialled, strict=True
    ):
        print(
            f"{count:>6} | {listen_kib:>15.1f} | {dial_in_kib:>16.1f} | {GOAL_LINK_KIB:>7.0f} | "
            f"{verdict(dial_in_kib, GOAL_LINK_KIB):>6} | {listen_cpu:>20.2f} | {dial_in_cpu:>21.2f}"
        )
    print()
    for mode, result in results.items():
        print(f"{mode}: {result['connected']} of {max(counts)} links still up after the windows")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="20 and 50 links, 2 s windows")
    parser.add_argument("--window", type=float, help=f"idle seconds per row (default {WINDOW})")
    parser.add_argument("--counts", help="comma-separated link counts (default 100,500,1000)")
    parser.add_argument("--proxy", choices=MODES, help=argparse.SUPPRESS)  # one mode's proxy
    parser.add_argument("--dial-in", type=Path, help=argparse.SUPPRESS)  # the dialling agents
    parser.add_argument("--offices", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    configure_logging("error")  # one line per link would be the bench's own cost
    if args.dial_in is not None:
        asyncio.run(dial_in(args.dial_in, args.offices))
        return
    counts = [20, 50] if args.quick else list(COUNTS)
    if args.counts:
        counts = [int(c) for c in args.counts.split(",")]
    counts.sort()
    window = args.window or (2.0 if args.quick else WINDOW)
    if args.proxy is not None:
        measure = measure_listen if args.proxy == "listen" else measure_dial_in
        with tempfile.TemporaryDirectory() as directory:
            print(json.dumps(asyncio.run(measure(Path(directory), counts, window))))
        return
    print(
        f"Idle dial-in links: {counts} links, {window:.0f} s of idle CPU per row;"
        " proxy side only, each mode in a fresh process\n",
        flush=True,
    )
    report({mode: run_mode(mode, counts, window) for mode in MODES}, counts)


if __name__ == "__main__":
    main()
