"""Daemons under a pretend service manager, for the service-lifecycle tests of both programs
(tests/agent/test_service_notify.py, tests/proxy/test_service_notify.py).

A test plays systemd: it binds the NOTIFY_SOCKET the daemon reports to, starts the daemon's
real console script with that socket (and WATCHDOG_USEC) in its environment, sends it SIGHUP
and SIGTERM, and reads its JSON log lines from stderr.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import signal
import socket
import struct
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

PATIENCE = 30.0
STATES = ("READY", "RELOADING", "STOPPING", "WATCHDOG")


class NotifySocket:
    """systemd's end of NOTIFY_SOCKET: each datagram the daemon sends, as a dict, and the PID
    of the process that sent it (what systemd checks under NotifyAccess=main)."""

    def __init__(self, bind_to: str, env_value: str) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(bind_to)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        self.sock.setblocking(False)
        self.env_value = env_value
        self.received: list[dict[str, str]] = []
        self.senders: set[int] = set()

    @classmethod
    def at_path(cls, path: Path) -> NotifySocket:
        return cls(str(path), str(path))

    @classmethod
    def abstract(cls) -> NotifySocket:
        name = f"portico-test-{secrets.token_hex(8)}"
        return cls("\0" + name, "@" + name)

    async def next(self) -> dict[str, str]:
        loop = asyncio.get_running_loop()
        readable = loop.create_future()
        loop.add_reader(self.sock, lambda: readable.done() or readable.set_result(None))
        try:
            async with asyncio.timeout(PATIENCE):
                await readable
        finally:
            loop.remove_reader(self.sock)
        return self._take()

    def _take(self) -> dict[str, str]:
        data, ancillary, _, _ = self.sock.recvmsg(65536, socket.CMSG_SPACE(12))
        for level, kind, value in ancillary:
            if (level, kind) == (socket.SOL_SOCKET, socket.SCM_CREDENTIALS):
                self.senders.add(struct.unpack("iII", value[:12])[0])
        message = dict(line.split("=", 1) for line in data.decode().splitlines())
        self.received.append(message)
        return message

    async def until(self, key: str) -> dict[str, str]:
        """Read on until a message carries `key`; that message."""
        while key not in (message := await self.next()):
            pass
        return message

    def states(self) -> list[str]:
        """What each message received so far announced, status-only messages left out."""
        with contextlib.suppress(BlockingIOError):
            while True:  # what has arrived but was not read yet
                self._take()
        return [next(k for k in STATES if k in m) for m in self.received if STATES & m.keys()]

    def close(self) -> None:
        self.sock.close()


class Daemon:
    """A daemon subprocess started the way systemd starts it, and its JSON log lines."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.lines: list[str] = []
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.process.stderr is not None
        async for line in self.process.stderr:
            self.lines.append(line.decode())

    def events(self, name: str | None = None) -> list[dict[str, Any]]:
        records = [json.loads(line) for line in self.lines if line.startswith("{")]
        return [r for r in records if name is None or r["event"] == name]

    async def wait_for_log(self, name: str) -> dict[str, Any]:
        async with asyncio.timeout(PATIENCE):
            while not self.events(name):
                if self.process.returncode is not None:
                    raise AssertionError(f"exited before logging {name}:\n{''.join(self.lines)}")
                await asyncio.sleep(0.02)
        return self.events(name)[0]

    def send(self, signum: signal.Signals) -> None:
        self.process.send_signal(signum)

    async def exit_code(self) -> int:
        async with asyncio.timeout(PATIENCE):
            code = await self.process.wait()
            await self._reader
        return code


@asynccontextmanager
async def daemon(
    *argv: str, notify: NotifySocket, watchdog_usec: int | None = None
) -> AsyncIterator[Daemon]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WATCHDOG_", "NOTIFY_"))}
    env["NOTIFY_SOCKET"] = notify.env_value
    if watchdog_usec is not None:
        env["WATCHDOG_USEC"] = str(watchdog_usec)
    process = await asyncio.create_subprocess_exec(
        *argv, env=env, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    running = Daemon(process)
    try:
        yield running
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


@pytest.fixture
def notify(tmp_path: Path) -> Iterator[NotifySocket]:
    """A notify socket at a path, as systemd makes it."""
    receiver = NotifySocket.at_path(tmp_path / "notify.sock")
    yield receiver
    receiver.close()


@pytest.fixture
def abstract_notify() -> Iterator[NotifySocket]:
    """A notify socket in the abstract namespace ("@name")."""
    receiver = NotifySocket.abstract()
    yield receiver
    receiver.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


async def accepts_tcp(port: int) -> bool:
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return False
    writer.close()
    await writer.wait_closed()
    return True
