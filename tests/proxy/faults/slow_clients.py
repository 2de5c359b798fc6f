"""Slow and idle clients, run as a process of their own so they cost the measuring test nothing.

    python -m tests.proxy.faults.slow_clients AGENT_PORT PROXY_PORT COUNT

On the line `attack` (stdin), opens COUNT connections to the agent's link port (half plain TCP
that never sends a byte, half trickling a real TLS ClientHello one byte at a time) and COUNT
to the proxy (slowloris: a request line and Host header, then one header byte at a time, never
the blank line), and answers `{"event": "attacking", ...}` once all are open. A connection the
server closes is opened again at once, as an attacker would. On `calm` it closes them all and
answers `{"event": "calm", ...}`; on end of input it exits. Each answer is one JSON line with
the counts so far.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import resource
import ssl
import sys
from collections import Counter

HOST = "127.0.0.1"
TRICKLE_SECONDS = 0.5  # between two bytes on one connection
SLOW_HEADER = b"X-Slow: " + b"a" * 4000  # never finished: the blank line never comes


def client_hello() -> bytes:
    """The bytes a TLS client sends first (a real ClientHello, from a memory-BIO handshake)."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = context.wrap_bio(incoming, outgoing, server_hostname="agent.invalid")
    with contextlib.suppress(ssl.SSLWantReadError):
        tls.do_handshake()
    return outgoing.read()


class SlowClients:
    def __init__(self, agent_port: int, proxy_port: int, count: int) -> None:
        self.ports = {"idle": agent_port, "trickle": agent_port, "slowloris": proxy_port}
        self.kinds = ["idle"] * (count // 2) + ["trickle"] * (count - count // 2)
        self.kinds += ["slowloris"] * count
        self.hello = client_hello()
        self.opened: Counter[str] = Counter()
        self.closed_by_server: Counter[str] = Counter()
        self.open_now = 0
        self._tasks: list[asyncio.Task[None]] = []

    async def attack(self) -> None:
        self._tasks = [asyncio.create_task(self._connection(kind)) for kind in self.kinds]
        while self.open_now < len(self.kinds):
            await asyncio.sleep(0.02)

    async def calm(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    async def _connection(self, kind: str) -> None:
        """One connection of `kind`, opened again each time the server closes it."""
        while True:
            try:
                reader, writer = await asyncio.open_connection(HOST, self.ports[kind])
            except OSError:
                await asyncio.sleep(0.1)  # the listen backlog overflowed: knock again
                continue
            self.opened[kind] += 1
            self.open_now += 1
            sender = asyncio.create_task(self._send(kind, writer))
            try:
                with contextlib.suppress(OSError):
                    await reader.read()  # until the server closes (whatever it says first)
                self.closed_by_server[kind] += 1
            finally:
                self.open_now -= 1
                sender.cancel()
                writer.transport.abort()

    async def _send(self, kind: str, writer: asyncio.StreamWriter) -> None:
        if kind == "idle":
            return
        if kind == "slowloris":
            writer.write(b"GET /appointments HTTP/1.1\r\nHost: example-clinic.localhost\r\n")
            payload = SLOW_HEADER
        else:
            payload = self.hello
        # Each connection keeps its own rhythm, as independent clients would; all of them
        # writing in the same instant every half second would measure bursts instead.
        await asyncio.sleep(random.uniform(0, TRICKLE_SECONDS))
        with contextlib.suppress(OSError):
            for byte in payload:
                writer.write(bytes([byte]))
                await asyncio.sleep(TRICKLE_SECONDS)

    def report(self, event: str) -> None:
        counts = {"opened": self.opened, "closed_by_server": self.closed_by_server}
        print(json.dumps({"event": event, "open": self.open_now, **counts}), flush=True)


async def main(agent_port: int, proxy_port: int, count: int) -> None:
    clients = SlowClients(agent_port, proxy_port, count)
    while command := (await asyncio.to_thread(sys.stdin.readline)).strip():
        if command == "attack":
            await clients.attack()
            clients.report("attacking")
        elif command == "calm":
            await clients.calm()
            clients.report("calm")
        else:
            raise SystemExit(f"unknown command {command!r}: attack or calm")
    await clients.calm()


if __name__ == "__main__":
    # Room for every connection (the default soft limit is often 1024).
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 8192 if hard == resource.RLIM_INFINITY else min(8192, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, wanted), hard))
    agent, proxy, number = (int(arg) for arg in sys.argv[1:4])
    asyncio.run(main(agent, proxy, number))
