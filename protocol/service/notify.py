"""The daemons' side of the conversation with the service manager (systemd, launchd).

Requests come in as signals (:class:`ServiceSignals`): SIGTERM to stop, SIGHUP to reload (the
units' ``ExecReload=/bin/kill -HUP $MAINPID``). Answers go out with systemd's ``sd_notify``
protocol (:class:`ServiceNotifier`).

Under ``Type=notify`` systemd passes an ``AF_UNIX`` datagram socket in ``$NOTIFY_SOCKET``; the
daemon sends newline-separated ``KEY=VALUE`` lines to it: ``READY=1`` once it serves,
``RELOADING=1`` (with ``MONOTONIC_USEC``) and ``READY=1`` around a reload, ``STOPPING=1`` on the
way out, and ``WATCHDOG=1`` at least every ``$WATCHDOG_USEC`` microseconds or systemd restarts
it. A path starting with ``@`` names a Linux abstract socket (the ``@`` stands for a NUL byte).

Written by hand rather than taken from a library: the protocol is one ``sendto`` per message,
and the official binding (``systemd-python``) is a C extension that needs libsystemd's headers
to build, which an office's server will not have; no C extension is wanted for a dozen lines.
Under launchd, or when started by hand, ``$NOTIFY_SOCKET`` is unset and every call here does
nothing.

Nothing here raises into the daemon: the service manager is an observer, and a notification
that cannot be delivered must never take the patient portal down with it.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import time
from collections.abc import Awaitable, Mapping

import structlog

__all__ = ["ServiceNotifier", "ServiceSignals"]

log = structlog.get_logger("portico.sdnotify")

# A send to a notify socket whose reader is stuck may block; never for longer than this.
_SEND_TIMEOUT = 1.0


def _socket_address(value: str) -> str | None:
    """The ``sendto`` address for a ``$NOTIFY_SOCKET`` value, None for kinds not supported."""
    if value.startswith("/"):
        return value
    if value.startswith("@") and len(value) > 1:
        return "\0" + value[1:]
    return None  # e.g. systemd 254's "vsock:CID:PORT", for services inside virtual machines


def _watchdog_seconds(environ: Mapping[str, str]) -> float | None:
    """The watchdog timeout meant for this process, in seconds; None when there is none."""
    usec, pid = environ.get("WATCHDOG_USEC", ""), environ.get("WATCHDOG_PID", "")
    # WATCHDOG_PID names the process the watchdog is for; a child that inherited the variables
    # must not ping on its parent's behalf.
    if pid and pid != str(os.getpid()):
        return None
    try:
        value = int(usec)
    except ValueError:
        return None
    return value / 1_000_000 if value > 0 else None


class ServiceNotifier:
    """Notifications for the service manager at one socket address (None: do nothing)."""

    def __init__(self, address: str | None, *, watchdog_seconds: float | None = None) -> None:
        """``address`` as in ``$NOTIFY_SOCKET``; ``watchdog_seconds`` as ``$WATCHDOG_USEC``."""
        self._address = None if address is None else _socket_address(address)
        self.watchdog_seconds = watchdog_seconds if self._address is not None else None
        self._failing = False
        if address is not None and self._address is None:
            log.warning("sdnotify.unsupported_socket", reason="only AF_UNIX paths are supported")

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> ServiceNotifier:
        """The notifier systemd asked for (``$NOTIFY_SOCKET``, ``$WATCHDOG_USEC``)."""
        env = os.environ if environ is None else environ
        return cls(env.get("NOTIFY_SOCKET") or None, watchdog_seconds=_watchdog_seconds(env))

    @property
    def enabled(self) -> bool:
        return self._address is not None

    def notify(self, *assignments: str) -> bool:
        """Send ``KEY=VALUE`` lines as one datagram; True if it was sent. Never raises."""
        if self._address is None:
            return False
        message = "\n".join(assignments).encode("utf-8")
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
                sock.settimeout(_SEND_TIMEOUT)
                sock.sendto(message, self._address)
        except (OSError, ValueError) as exc:
            if not self._failing:  # once per outage, not once per watchdog ping
                self._failing = True
                log.warning(
                    "sdnotify.send_failed",
                    error_type=type(exc).__name__,
                    errno=getattr(exc, "errno", None),
                )
            return False
        if self._failing:
            self._failing = False
            log.info("sdnotify.send_recovered")
        return True

    def ready(self, status: str | None = None) -> bool:
        """Start-up (or a reload) is complete: the daemon serves."""
        return self.notify("READY=1", *_status(status))

    def reloading(self, status: str | None = None) -> bool:
        """A reload starts. ``MONOTONIC_USEC`` tells systemd which reload this is; it must be
        CLOCK_MONOTONIC, which is what ``time.monotonic_ns`` reads on Linux."""
        return self.notify(
            "RELOADING=1", f"MONOTONIC_USEC={time.monotonic_ns() // 1000}", *_status(status)
        )

    def stopping(self, status: str | None = None) -> bool:
        """Shutdown has begun (draining); the process exits soon."""
        return self.notify("STOPPING=1", *_status(status))

    def status(self, text: str) -> bool:
        """A one-line status shown by ``systemctl status``."""
        return self.notify(*_status(text))

    def watchdog(self) -> bool:
        """Say "still alive": systemd restarts the service when these stop coming."""
        return self.notify("WATCHDOG=1")

    async def keep_watchdog_fed(self) -> None:
        """Ping the watchdog at half its interval until cancelled; return at once when there is
        no watchdog. It runs on the event loop on purpose: a loop stuck in a blocking call stops
        the pings, and systemd then restarts a daemon that no longer answers anyone."""
        interval = self.watchdog_seconds
        if interval is None:
            return
        while True:
            self.watchdog()
            await asyncio.sleep(interval / 2)


def _status(text: str | None) -> tuple[str, ...]:
    # One datagram line per assignment: a newline inside the text would start a bogus one.
    return () if text is None else (f"STATUS={' '.join(text.split())}",)


class ServiceSignals:
    """SIGTERM and SIGINT ask to stop; SIGHUP asks to reload. Several SIGHUPs arriving before
    the first is handled make one reload, and a stop wins over a pending reload.

    Handlers are installed on the running event loop (so they run as ordinary callbacks, not in
    the middle of whatever the loop was doing) until :meth:`remove`."""

    def __init__(self, stop: asyncio.Event | None = None) -> None:
        """``stop``: an event the caller may also set to stop (an in-process server's owner)."""
        self.stop = stop or asyncio.Event()
        self.reload = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            self._loop.add_signal_handler(signum, self.stop.set)
        self._loop.add_signal_handler(signal.SIGHUP, self.reload.set)

    async def next_reload(self) -> bool:
        """Wait for a request: True for a reload (do it now), False once stopping."""
        while not self.stop.is_set() and not self.reload.is_set():
            await _first(self.stop.wait(), self.reload.wait())
        self.reload.clear()
        return not self.stop.is_set()

    async def stopped_within(self, seconds: float) -> bool:
        """Wait up to ``seconds``; True as soon as a stop is asked for (a retry's pause)."""
        if not self.stop.is_set():
            await _first(self.stop.wait(), asyncio.sleep(seconds))
        return self.stop.is_set()

    def remove(self) -> None:
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            self._loop.remove_signal_handler(signum)


async def _first(*waits: Awaitable[object]) -> None:
    """Wait until one of ``waits`` finishes; cancel the others."""
    tasks = [asyncio.ensure_future(wait) for wait in waits]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
