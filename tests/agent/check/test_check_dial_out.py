"""``portico-agent check`` in dial_out mode: each portal endpoint resolved, reached and its key
checked both ways over a real TLS handshake (against a real LinkAcceptor), and nothing left
listening on the link port; the listen-port item is not run at all."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from agent.db.pool import DatabaseSettings
from protocol.aio import LinkAcceptor, LinkClient
from protocol.tls import server_config
from protocol.transport import Timeouts
from tests.agent.check.check_fixtures import Run, check, free_port
from tests.support.keys import make_identity
from tests.support.practice import agent_config_data


class Portal:
    """A portal replica's link listener, registering ``pin`` for ``tenant``."""

    def __init__(self, keys: Path, *, pin: str, tenant: str = "example-clinic") -> None:
        self.clients: list[LinkClient] = []
        self.acceptor = LinkAcceptor(
            server_config(keys / "proxy" / "key.pem", keys / "proxy" / "cert.pem", [pin]),
            tenant_of={pin: tenant}.get,
            on_link=lambda tenant, client: self.clients.append(client),
            requester_id="replica-1",
            timeouts=Timeouts(handshake=2.0),
        )

    async def __aenter__(self) -> int:
        await self.acceptor.start("127.0.0.1", 0)
        return self.acceptor.port

    async def __aexit__(self, *exc_info: object) -> None:
        await self.acceptor.close()


def dial_out_config(
    directory: Path, settings: DatabaseSettings, keys: Path, endpoint: str, **tls: Any
) -> Path:
    data = agent_config_data(settings, keys)
    del data["listen"]
    data["link"] = {"mode": "dial_out", "portal": [endpoint]}
    data["tls"].update(tls)
    data["email"] = {"mode": "folder", "outbox_dir": str(directory / "outbox")}
    path = directory / "agent.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


async def check_in_thread(path: Path, **kwargs: Any) -> Run:
    kwargs.setdefault("no_listener_port", free_port())
    return await asyncio.to_thread(check, path, **kwargs)


@pytest.fixture
async def portal_port(link_keys: Path) -> AsyncIterator[int]:
    async with Portal(link_keys, pin=(link_keys / "agent.pin").read_text()) as port:
        yield port


async def test_a_reachable_portal_that_knows_this_agent_is_ok(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path, portal_port: int
) -> None:
    endpoint = f"127.0.0.1:{portal_port}"

    run = await check_in_thread(dial_out_config(tmp_path, practice_db, link_keys, endpoint))

    assert run.line("portal").startswith(
        f"OK    portal       {endpoint} (127.0.0.1): reached; keys pinned both ways"
    )
    assert "127.0.0.1: OK, the portal knows this agent as example-clinic" in run.line("portal")
    assert run.status_of("open port") == "OK"
    assert "listen port" not in run.output


async def test_a_portal_key_not_pinned_here_fails(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path, portal_port: int
) -> None:
    stranger = make_identity(tmp_path / "stranger", "stranger")
    path = dial_out_config(
        tmp_path, practice_db, link_keys, f"127.0.0.1:{portal_port}", proxy_pins=[stranger.pin]
    )

    run = await check_in_thread(path)

    line = run.line("portal")
    assert line.startswith("FAIL  portal")
    proxy_pin = (link_keys / "proxy.pin").read_text()
    assert f"presented key pin {proxy_pin}, which is not in tls.proxy_pins" in line
    assert run.status == 1


async def test_a_portal_that_does_not_know_this_agent_says_which_pin_to_give(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    stranger = make_identity(tmp_path / "stranger", "stranger")
    async with Portal(link_keys, pin=stranger.pin) as port:
        run = await check_in_thread(
            dial_out_config(tmp_path, practice_db, link_keys, f"127.0.0.1:{port}")
        )

    line = " ".join(run.line("portal").split())
    assert "the portal refused this agent's key" in line
    agent_pin = (link_keys / "agent.pin").read_text()
    assert f"give your Portico provider this agent's pin {agent_pin}" in line


async def test_a_key_registered_for_another_office_fails(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    agent_pin = (link_keys / "agent.pin").read_text()
    async with Portal(link_keys, pin=agent_pin, tenant="other-clinic") as port:
        run = await check_in_thread(
            dial_out_config(tmp_path, practice_db, link_keys, f"127.0.0.1:{port}")
        )

    line = " ".join(run.line("portal").split())
    assert 'registered for "other-clinic", but practice.subdomain is example-clinic' in line


async def test_an_unreachable_endpoint_says_to_let_the_connection_out(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    port = free_port()

    run = await check_in_thread(
        dial_out_config(tmp_path, practice_db, link_keys, f"127.0.0.1:{port}")
    )

    line = " ".join(run.line("portal").split())
    assert line.startswith("FAIL portal")
    assert "127.0.0.1: connection refused" in line
    assert f"let this server connect out to TCP port {port}" in line


async def test_an_unresolvable_name_fails(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    run = await check_in_thread(
        dial_out_config(tmp_path, practice_db, link_keys, "no-such-host.invalid:4443")
    )

    assert "cannot look up no-such-host.invalid" in run.line("portal")


async def test_something_listening_on_the_link_port_is_a_warning_with_advice(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path, portal_port: int
) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]

        run = await check_in_thread(
            dial_out_config(tmp_path, practice_db, link_keys, f"127.0.0.1:{portal_port}"),
            no_listener_port=port,
        )

    line = " ".join(run.line("open port").split())
    assert line.startswith(f"WARN open port something listens on 127.0.0.1:{port}")
    assert "remove the router's port forward" in line
