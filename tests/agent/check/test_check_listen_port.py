"""The link-port item: free, held by another program (FAIL), or held by this very agent (OK).

The agent cases run the real daemon (Agent.build, as ``portico-agent run`` does) on this
test's event loop; the check runs in a thread with its own loop, as it would in a shell.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from agent.config import AgentConfig
from agent.daemon import Agent
from agent.db.pool import DatabaseSettings
from tests.agent.check.check_fixtures import Run, check, free_port, write_config
from tests.support.keys import make_keys
from tests.support.practice import agent_config_data, cheap_hasher


async def check_in_thread(path: Path, **kwargs: Any) -> Run:
    return await asyncio.to_thread(check, path, **kwargs)


@asynccontextmanager
async def running_agent(
    settings: DatabaseSettings, keys: Path, allowed: list[str]
) -> AsyncIterator[int]:
    data = agent_config_data(settings, keys)
    data["listen"]["allowed_proxies"] = allowed
    agent = Agent.build(AgentConfig.model_validate(data), hasher=cheap_hasher())
    await agent.start(port=0)
    try:
        yield agent.server.port
    finally:
        await agent.stop(grace=1)


def test_a_free_port_is_ok(practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path) -> None:
    port = free_port()

    run = check(write_config(tmp_path, practice_db, link_keys, listen_port=port))

    assert run.line("listen port") == f"OK    listen port  127.0.0.1:{port} is free"


def test_a_port_held_by_another_program_fails_with_how_to_find_it(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()  # accepts into the backlog, never answers: like any busy daemon
        port = holder.getsockname()[1]

        run = check(write_config(tmp_path, practice_db, link_keys, listen_port=port), timeout=0.3)

    line = run.line("listen port")
    assert run.status == 1
    assert line.startswith(f"FAIL  listen port  127.0.0.1:{port} is in use by another program")
    assert f"ss -ltnp 'sport = :{port}'" in line


async def test_the_port_held_by_this_agent_is_ok(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with running_agent(practice_db, link_keys, ["127.0.0.0/8"]) as port:
        path = write_config(tmp_path, practice_db, link_keys, listen_port=port)

        run = await check_in_thread(path)

    assert run.line("listen port") == (
        f"OK    listen port  127.0.0.1:{port} is in use by this agent "
        "(it presented this agent's pin)"
    )


async def test_the_port_held_by_an_agent_with_another_key_fails(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    other_keys = make_keys(tmp_path / "other")
    async with running_agent(practice_db, other_keys, ["127.0.0.0/8"]) as port:
        path = write_config(tmp_path, practice_db, link_keys, listen_port=port)

        run = await check_in_thread(path)

    other_pin = (other_keys / "agent.pin").read_text()
    assert run.status_of("listen port") == "FAIL"
    assert f"in use by another TLS service (key pin {other_pin}" in run.line("listen port")


async def test_an_agent_that_refuses_this_machine_can_only_be_a_warning(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    # The office's real allowed_proxies: the operator's addresses, not 127.0.0.1. The agent
    # then drops the probe before TLS, so the check cannot see whose port it is.
    async with running_agent(practice_db, link_keys, ["203.0.113.0/24"]) as port:
        path = write_config(
            tmp_path,
            practice_db,
            link_keys,
            listen_port=port,
            listen={"allowed_proxies": ["203.0.113.0/24"]},
        )

        run = await check_in_thread(path)

    line = run.line("listen port")
    assert line.startswith(f"WARN  listen port  127.0.0.1:{port} is in use;")
    assert "outside listen.allowed_proxies" in line
