"""Loopback ports for servers a test starts, and whether one accepts connections yet."""

from __future__ import annotations

import asyncio
import socket


def free_port() -> int:
    """A loopback port nothing listens on (bound a moment ago, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


async def accepts_tcp(port: int) -> bool:
    """Whether something accepts a TCP connection on the loopback port now."""
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return False
    writer.close()
    await writer.wait_closed()
    return True
