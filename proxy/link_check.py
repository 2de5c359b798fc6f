"""`portico-proxy link-check`: open the link to one agent and ask it who it is.

What office IT runs after installing the agent, and what the demo runs: it proves the TCP
path, the pins both ways, the tenant name and the agent's database in one go.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from protocol.aio import LinkClient, LinkRefused, RemoteError
from protocol.tls import client_config


async def check_link(
    host: str, port: int, *, tenant: str, key: Path, cert: Path, agent_pin: str
) -> dict[str, Any]:
    tls = client_config(key, cert, [agent_pin])
    started = time.perf_counter()
    client = await LinkClient.connect(
        host, port, tls=tls, tenant=tenant, requester_id="portico-proxy link-check"
    )
    try:
        connected = time.perf_counter()
        info = await client.request("practice.info", {}, deadline=10)
        types = await client.request("booking.appointment_types", {}, deadline=10)
        answered = time.perf_counter()
    finally:
        await client.close()
    return {
        "practice": info,
        "appointment_types": len(types["appointment_types"]),
        "agent_version": client.welcome.agent_version,
        "connect_ms": round((connected - started) * 1000, 1),
        "requests_ms": round((answered - connected) * 1000, 1),
    }


def run_link_check(
    target: str, *, tenant: str, key: Path, cert: Path, agent_pin: str
) -> tuple[bool, str]:
    """(ok, a message for the person at the terminal)."""
    host, _, port_text = target.rpartition(":")
    if not host or not port_text.isdigit():
        return False, f"--agent must be HOST:PORT, got {target!r}"
    try:
        result = asyncio.run(
            check_link(host, int(port_text), tenant=tenant, key=key, cert=cert, agent_pin=agent_pin)
        )
    except LinkRefused as exc:
        return False, f"link refused: {exc.reason}"
    except RemoteError as exc:
        return False, f"the agent answered with an error: {exc.code}: {exc.message}"
    except (OSError, ValueError) as exc:
        return False, f"cannot check the link: {exc}"
    practice = result["practice"]
    return True, (
        f"link OK: {practice['name']} ({practice['phone']}, {practice['timezone']}), "
        f"agent {result['agent_version']}, {result['appointment_types']} appointment types "
        f"bookable online; connect {result['connect_ms']} ms, 2 requests "
        f"{result['requests_ms']} ms"
    )
