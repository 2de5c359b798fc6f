"""`portico-agent run` and `portico-proxy serve` (or HAProxy) as real processes.

The in-process agent of tests/support/practice.py dies with the test; fault and service tests
need the daemon exactly as systemd starts it: its own process, config file, environment, real
clock and memory, so that SIGKILL, SIGHUP, a restart and /proc/<pid>/status mean what they mean
in production. Its output goes to a log file, which failure messages quote and `events` reads
back as JSON records. tests/support/systemd.py adds the notify socket on top.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import resource
import signal
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from agent.db.pool import DatabaseSettings
from protocol.aio import LinkClient, LinkRefused
from protocol.tls import client_config
from tests.support.practice import agent_config_data, write_config_file

# Generous: a loaded two-core CI machine imports the whole stack in a second or two.
PATIENCE = 30.0
TENANT = "example-clinic"


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
    """One daemon process; its output (stdout and stderr) goes to `log_path`.

    With a `port`, `start` returns once the port accepts connections; `env` replaces the
    environment the process inherits."""

    def __init__(
        self,
        command: Sequence[str],
        port: int | None,
        log_path: Path,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.command = list(command)
        self.port = port
        self.log_path = log_path
        self.env = dict(env) if env is not None else None
        self.process: asyncio.subprocess.Process | None = None
        self._log_text = ""  # the log as last read, for after its file is gone

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
        """Start, and return once the port (if any) accepts connections."""
        with self.log_path.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                *self.command,
                env=self.env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )
        if self.port is not None:
            await self._until_listening(self.port)

    async def _until_listening(self, port: int) -> None:
        async with asyncio.timeout(PATIENCE):
            while True:
                self._still_running()
                try:
                    _, writer = await asyncio.open_connection("127.0.0.1", port)
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

    def send(self, signum: signal.Signals) -> None:
        assert self.process is not None, "not started"
        self.process.send_signal(signum)

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

    async def exit_code(self) -> int:
        """The exit status, once the process ends (within PATIENCE)."""
        async with asyncio.timeout(PATIENCE):
            return await self.exited()

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

    def events(self, name: str | None = None) -> list[dict[str, Any]]:
        """The JSON log records written so far (those named `name`)."""
        lines = self.log_text().splitlines()
        records = [json.loads(line) for line in lines if line.startswith("{")]
        return [r for r in records if name is None or r["event"] == name]

    async def wait_for_log(self, name: str) -> dict[str, Any]:
        """The first record named `name`, waiting for the daemon to log it."""
        async with asyncio.timeout(PATIENCE):
            while not self.events(name):
                if self.process is not None and self.process.returncode is not None:
                    raise AssertionError(f"exited before logging {name}:\n{self.log_tail()}")
                await asyncio.sleep(0.02)
        return self.events(name)[0]

    def log_text(self) -> str:
        """Everything the process has written so far (as last read, once the file is gone)."""
        if self.log_path.exists():
            self._log_text = self.log_path.read_text(errors="replace")
        return self._log_text

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:]) or "(no output)"


async def link_to(agent: Daemon, keys: Path) -> LinkClient:
    """A link to the agent process as the proxy opens it, retried until the agent answers."""
    tls = client_config(
        keys / "proxy" / "key.pem", keys / "proxy" / "cert.pem", [(keys / "agent.pin").read_text()]
    )
    assert agent.port is not None, "an agent daemon listens on a port"
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
