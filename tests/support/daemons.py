"""`portico-agent run` (and `portico-proxy serve`) as real processes a test can SIGKILL.

The in-process agent of tests/support/practice.py dies with the test; a fault test needs the
daemon exactly as systemd starts it: its own process, config file, real clock and memory, so
that SIGKILL, a restart and /proc/<pid>/status mean what they mean in production.
"""

from __future__ import annotations

import asyncio
import contextlib
import resource
import signal
import socket
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from agent.db.pool import DatabaseSettings
from protocol.aio import LinkClient, LinkRefused
from protocol.tls import client_config
from tests.agent.access_fixtures import write_config_file
from tests.support.practice import agent_config_data

# Generous: a loaded two-core CI machine imports the whole stack in a second or two.
PATIENCE = 30.0
TENANT = "example-clinic"


def free_port() -> int:
    """A loopback port nothing listens on (bound a moment ago, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def console_script(name: str, module: str) -> list[str]:
    """The installed entry point (what systemd runs), or `python -m` when not installed."""
    script = Path(sys.executable).with_name(name)
    return [str(script)] if script.exists() else [sys.executable, "-m", module]


def agent_yaml(
    directory: Path, settings: DatabaseSettings, keys: Path, port: int, **booking: Any
) -> Path:
    """The small practice's agent.yaml for a separate agent process listening on `port`."""
    data = agent_config_data(settings, keys, **booking)
    data["listen"]["port"] = port
    data["email"] = {"mode": "folder", "outbox_dir": str(directory / "outbox")}
    # Several agents and proxies run side by side here: no fixed metrics port to collide on.
    data["metrics"] = {"enabled": False}
    return Path(write_config_file(directory / "agent.yaml", data))


class Daemon:
    """One daemon process; its output goes to a log file the failure messages quote."""

    def __init__(self, command: Sequence[str], port: int, log_path: Path) -> None:
        self.command = list(command)
        self.port = port
        self.log_path = log_path
        self.process: asyncio.subprocess.Process | None = None

    @classmethod
    def agent(cls, config: Path, port: int) -> Daemon:
        command = [*console_script("portico-agent", "agent.cli"), "run", "--config", str(config)]
        return cls(command, port, config.with_suffix(".log"))

    @classmethod
    def proxy(cls, config: Path, port: int) -> Daemon:
        command = [*console_script("portico-proxy", "proxy.cli"), "serve", "--config", str(config)]
        return cls(command, port, config.with_suffix(".log"))

    @property
    def pid(self) -> int:
        assert self.process is not None, "not started"
        return self.process.pid

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.returncode is None

    async def start(self) -> None:
        """Start, and return once the port accepts connections."""
        with self.log_path.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                *self.command, stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=log
            )
        await self._until_listening()

    async def _until_listening(self) -> None:
        async with asyncio.timeout(PATIENCE):
            while True:
                self._still_running()
                try:
                    _, writer = await asyncio.open_connection("127.0.0.1", self.port)
                except OSError:
                    await asyncio.sleep(0.05)
                    continue
                writer.close()
                with contextlib.suppress(OSError):
                    await writer.wait_closed()
                return

    def _still_running(self) -> None:
        if self.process is not None and self.process.returncode is not None:
            raise AssertionError(
                f"{self.command[0]} exited with {self.process.returncode}:\n{self.log_tail()}"
            )

    def send_sigkill(self) -> None:
        """SIGKILL, at once (no await in between): no signal handler, no GOAWAY, no rollback
        by the process itself."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)

    async def kill(self) -> None:
        """SIGKILL and wait for the process to be gone."""
        self.send_sigkill()
        await self.exited()

    async def exited(self) -> int:
        """Wait for the process to end; its exit status (negative: the signal that ended it)."""
        assert self.process is not None
        return await self.process.wait()

    async def stop(self) -> None:
        """SIGTERM and wait (SIGKILL after PATIENCE); nothing if it is not running."""
        if not self.running:
            return
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        try:
            async with asyncio.timeout(PATIENCE):
                await self.process.wait()
        except TimeoutError:
            await self.kill()

    def rss_kib(self) -> int:
        """Resident memory now (VmRSS of /proc/<pid>/status), in KiB."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise AssertionError(f"no VmRSS for pid {self.pid}")

    def log_tail(self, lines: int = 30) -> str:
        if not self.log_path.exists():
            return "(no output)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


async def link_to(agent: Daemon, keys: Path) -> LinkClient:
    """A link to the agent process as the proxy opens it, retried until the agent answers."""
    tls = client_config(
        keys / "proxy" / "key.pem", keys / "proxy" / "cert.pem", [(keys / "agent.pin").read_text()]
    )
    async with asyncio.timeout(PATIENCE):
        while True:
            agent._still_running()
            try:
                return await LinkClient.connect(
                    "127.0.0.1", agent.port, tls=tls, tenant=TENANT, requester_id="fault-test"
                )
            except LinkRefused:
                await asyncio.sleep(0.1)


def raise_open_file_limit(wanted: int = 8192) -> None:
    """Room for a thousand sockets in this process and the daemons it starts (they inherit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
