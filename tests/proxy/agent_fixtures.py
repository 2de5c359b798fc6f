"""Real agents on loopback for the proxy's link tests, and a proxy config pointing at them.

The agents are the real daemon (tests/support/practice.py builds them) with real TLS and pins;
each test starts, stops and restarts them as its story needs. The one fault injector is
:class:`LinkCutter`, a TCP relay on the link's path that can hold the agent's answers and then
drop the connection: the only way to have a request in flight at the moment the link dies.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from agent.daemon import Agent
from agent.db.pool import DatabaseSettings
from proxy.config import ProxyConfig
from tests.support.practice import agent_config, cheap_hasher

PRACTICE_NAME = "Example Family Clinic"
SUBDOMAIN = "example-clinic"  # what agent_config's practice serves; the HELLO must name it


class Offices:
    """Agents of the small test practice, each on its own loopback address and port."""

    def __init__(self, settings: DatabaseSettings, keys: Path) -> None:
        self.settings = settings
        self.keys = keys
        self._running: list[Agent] = []

    async def start(
        self, *, host: str = "127.0.0.1", port: int = 0, name: str = PRACTICE_NAME
    ) -> Agent:
        config = agent_config(self.settings, self.keys)
        config = config.model_copy(
            update={
                "listen": config.listen.model_copy(update={"host": host}),
                "practice": config.practice.model_copy(update={"name": name}),
            }
        )
        agent = Agent.build(config, hasher=cheap_hasher())
        await agent.start(port=port)
        self._running.append(agent)
        return agent

    async def stop(self, agent: Agent) -> None:
        self._running.remove(agent)
        await agent.stop(grace=5)

    async def close(self) -> None:
        for agent in list(self._running):
            await self.stop(agent)


@dataclass
class ProxySetup:
    """A proxy.yaml whose link identity is the proxy key the test agents pin."""

    keys: Path
    directory: Path

    @property
    def agent_pin(self) -> str:
        return (self.keys / "agent.pin").read_text()

    @property
    def proxy_pin(self) -> str:
        return (self.keys / "proxy.pin").read_text()

    def tenant(
        self, host: str, port: int, *, pins: list[str] | None = None, name: str = PRACTICE_NAME
    ) -> dict[str, Any]:
        return {
            "host": host,
            "port": port,
            "pins": pins or [self.agent_pin],
            "name": name,
            "phone": "+1 555 0100",
        }

    def data(self, tenants: dict[str, dict[str, Any]]) -> dict[str, Any]:
        secret = self.directory / "secret"
        if not secret.exists():
            secret.write_text(base64.b64encode(os.urandom(48)).decode() + "\n")
        return {
            "portal_domain": "localhost",
            "tls": None,
            "listen": {"host": "127.0.0.1", "port": 8080},
            "link": {
                "key_file": str(self.keys / "proxy" / "key.pem"),
                "cert_file": str(self.keys / "proxy" / "cert.pem"),
            },
            "secret_file": str(secret),
            "tenants": tenants,
            # Off unless a test asks: many proxies run at once here and cannot share port 9124.
            "metrics": {"enabled": False},
        }

    def config(self, tenants: dict[str, dict[str, Any]]) -> ProxyConfig:
        return ProxyConfig.model_validate(self.data(tenants))

    def write(self, tenants: dict[str, dict[str, Any]]) -> Path:
        path = self.directory / "proxy.yaml"
        path.write_text(yaml.safe_dump(self.data(tenants), sort_keys=False))
        return path


def closed_port() -> int:
    """A loopback port with nothing listening on it (bound a moment ago, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


class LinkCutter:
    """A TCP relay proxy -> agent that can hold the agent's answers, then drop every connection
    (what the proxy sees when the office's server loses power mid-request)."""

    def __init__(self, agent_port: int) -> None:
        self.agent_port = agent_port
        self.port = 0
        self.accepted = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._answers_flow = asyncio.Event()
        self._answers_flow.set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    def hold_answers(self) -> None:
        self._answers_flow.clear()

    def release_answers(self) -> None:
        self._answers_flow.set()

    async def cut(self) -> None:
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def close(self) -> None:
        await self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.agent_port)
        self._writers.update((writer, up_writer))

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter, hold: bool) -> None:
            with contextlib.suppress(OSError, asyncio.CancelledError):
                while data := await src.read(65536):
                    if hold:
                        await self._answers_flow.wait()
                    dst.write(data)
                    await dst.drain()
            dst.transport.abort()

        await asyncio.gather(pipe(reader, up_writer, False), pipe(up_reader, writer, True))
        self._writers.difference_update((writer, up_writer))
