"""Daemons under a pretend service manager, for the service-lifecycle tests of both programs
(tests/agent/test_service_notify.py, tests/proxy/test_service_notify.py).

A test plays systemd: it binds the NOTIFY_SOCKET the daemon reports to, starts the daemon's
real console script with that socket (and WATCHDOG_USEC) in its environment, sends it SIGHUP
and SIGTERM, and reads its JSON log lines. The process itself is tests/support/daemons.py's
`Daemon`; this module adds only systemd's end of the notify socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import socket
import struct
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from tests.support.daemons import PATIENCE, Daemon

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


@asynccontextmanager
async def daemon(
    *argv: str, notify: NotifySocket, watchdog_usec: int | None = None
) -> AsyncIterator[Daemon]:
    """`argv` started as systemd starts a Type=notify service (NOTIFY_SOCKET, and
    WATCHDOG_USEC if given, in its environment); killed at the end if still running."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WATCHDOG_", "NOTIFY_"))}
    env["NOTIFY_SOCKET"] = notify.env_value
    if watchdog_usec is not None:
        env["WATCHDOG_USEC"] = str(watchdog_usec)
    with tempfile.TemporaryDirectory(prefix="portico-daemon-") as directory:
        running = Daemon(argv, None, Path(directory) / "daemon.log", env=env)
        await running.start()
        try:
            yield running
        finally:
            if running.running:
                await running.kill()
            running.log_text()  # kept for the test's checks after the directory is gone
