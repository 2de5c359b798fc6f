"""Issue 11: "`check` ... must check that the metrics port is free."

The agent serves Prometheus metrics on metrics.host:metrics.port (127.0.0.1:9123). When another
program holds that port the agent still runs, without metrics (it logs why), so `check` warns and
says how to find the program; the port held by this agent's own endpoint is fine.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from agent.config import AgentConfig
from agent.daemon import Agent
from agent.db.pool import DatabaseSettings
from tests.agent.check.check_fixtures import check, free_port, write_config
from tests.agent.check.test_check_listen_port import check_in_thread
from tests.support.practice import agent_config_data, cheap_hasher


def metrics_on(port: int) -> dict[str, object]:
    return {"enabled": True, "host": "127.0.0.1", "port": port}


def test_a_free_metrics_port_is_ok(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    port = free_port()

    run = check(write_config(tmp_path, practice_db, link_keys, metrics=metrics_on(port)))

    assert run.line("metrics") == f"OK    metrics      127.0.0.1:{port} is free"


def test_a_metrics_port_held_by_another_program_warns(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]

        run = check(
            write_config(tmp_path, practice_db, link_keys, metrics=metrics_on(port)), timeout=0.3
        )

    line = run.line("metrics")
    assert line.startswith(f"WARN  metrics      127.0.0.1:{port} is in use by another program")
    assert f"ss -ltnp 'sport = :{port}'" in line


@asynccontextmanager
async def agent_serving_metrics(settings: DatabaseSettings, keys: Path) -> AsyncIterator[int]:
    data = agent_config_data(settings, keys)
    data["metrics"] = metrics_on(0)
    agent = Agent.build(AgentConfig.model_validate(data), hasher=cheap_hasher())
    await agent.start(port=0)
    try:
        assert agent.metrics.address is not None
        yield agent.metrics.address[1]
    finally:
        await agent.stop(grace=1)


async def test_the_metrics_port_of_this_running_agent_is_ok(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with agent_serving_metrics(practice_db, link_keys) as port:
        path = write_config(tmp_path, practice_db, link_keys, metrics=metrics_on(port))

        run = await check_in_thread(path)

    assert run.line("metrics") == (
        f"OK    metrics      127.0.0.1:{port} is in use by a running Portico agent's metrics"
    )
