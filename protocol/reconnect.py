"""Reconnecting a link, whichever side dials: look the name up afresh, back off with jitter.

Shared by the proxy dialling an office's agent (listen mode, proxy/dialling.py) and the agent
dialling the portal (dial-out mode, agent/dialout.py): the rules are the same both ways
(DESIGN.md, "Dial-out"), so they live once, here.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import random
import socket
from collections.abc import Awaitable, Callable

__all__ = ["Resolver", "backoff_delay", "resolve_host"]

Resolver = Callable[[str, int], Awaitable[list[str]]]


async def resolve_host(host: str, port: int) -> list[str]:
    """The addresses of ``host``, freshly looked up, in the resolver's order (duplicates out).

    Never cached: an office on dynamic DNS (seed 001) or a portal whose replicas change must be
    followed on the very next attempt."""
    with contextlib.suppress(ValueError):
        return [str(ipaddress.ip_address(host))]
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def backoff_delay(failures: int, *, base: float, cap: float, rng: random.Random) -> float:
    """Seconds to wait after ``failures`` failed attempts in a row: "full jitter", uniform
    between 0 and ``min(cap, base * 2 ** (failures - 1))``, so that many peers reconnecting
    after an outage spread out instead of arriving together."""
    ceiling = min(cap, base * 2.0 ** min(max(failures - 1, 0), 62))
    return rng.uniform(0.0, ceiling)
