"""`portico-proxy check`: the file's problems, then one row per tenant saying whether its agent
answers, and an exit status a deploy script can trust."""

from __future__ import annotations

import asyncio
import contextlib
import io
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from proxy.check import run_check
from proxy.cli import main
from tests.proxy.agent_fixtures import SUBDOMAIN, Offices, ProxySetup, closed_port


def rows(output: str) -> dict[str, tuple[str, str]]:
    """tenant -> (agent, result), from the printed table."""
    found = {}
    for line in output.splitlines():
        cells = [cell.strip() for cell in line.split(" | ")]
        if len(cells) == 3 and cells[0] != "tenant":
            found[cells[0]] = (cells[1], cells[2])
    return found


async def check(*argv: str) -> int:
    # The agents run on this test's event loop; the command runs its own, as it would in a shell.
    return await asyncio.to_thread(main, ["check", *argv])


@contextlib.asynccontextmanager
async def silent_listener() -> AsyncIterator[int]:
    """Accepts TCP connections and never says a word (a firewall that swallows the handshake)."""
    held: list[asyncio.StreamWriter] = []

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        for writer in held:
            writer.transport.abort()
        server.close()
        await server.wait_closed()


async def test_a_live_agent_is_ok_and_the_exit_status_is_zero(
    offices: Offices, proxy_setup: ProxySetup, capsys: pytest.CaptureFixture[str]
) -> None:
    agent = await offices.start()
    path = proxy_setup.write({SUBDOMAIN: proxy_setup.tenant("127.0.0.1", agent.server.port)})

    assert await check("--config", str(path)) == 0

    out = capsys.readouterr().out
    table = rows(out)
    assert table[SUBDOMAIN][0] == f"127.0.0.1:{agent.server.port}"
    assert table[SUBDOMAIN][1].startswith("OK (")
    assert table[SUBDOMAIN][1].endswith(" ms round trip)")
    assert "1 of 1 agents OK" in out


async def test_each_failing_agent_gets_its_reason_and_the_exit_status_is_one(
    offices: Offices, proxy_setup: ProxySetup, capsys: pytest.CaptureFixture[str]
) -> None:
    agent = await offices.start()
    port = agent.server.port
    async with silent_listener() as silent:
        path = proxy_setup.write(
            {
                SUBDOMAIN: proxy_setup.tenant("127.0.0.1", port),
                "wrong-pin": proxy_setup.tenant("127.0.0.1", port, pins=[proxy_setup.proxy_pin]),
                "closed-port": proxy_setup.tenant("127.0.0.1", closed_port()),
                "silent": proxy_setup.tenant("127.0.0.1", silent),
            }
        )

        assert await check("--config", str(path), "--timeout", "0.5") == 1

    out = capsys.readouterr().out
    table = rows(out)
    assert table[SUBDOMAIN][1].startswith("OK")
    assert table["wrong-pin"][1].startswith("refused pin")
    assert proxy_setup.agent_pin in table["wrong-pin"][1]  # so the operator can compare
    assert table["closed-port"][1].startswith("connection refused")
    assert table["silent"][1].startswith("timed out")
    assert "1 of 4 agents OK" in out


async def test_a_name_that_does_not_resolve_is_a_dns_failure(
    offices: Offices, proxy_setup: ProxySetup
) -> None:
    agent = await offices.start()

    # Stand-in for DNS: one office's name exists, the other's does not (NXDOMAIN).
    async def resolve(host: str, port: int) -> list[str]:
        if host == "clinic.example-ddns.test":
            return ["127.0.0.1"]
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    path = proxy_setup.write(
        {
            SUBDOMAIN: proxy_setup.tenant("clinic.example-ddns.test", agent.server.port),
            "gone-clinic": proxy_setup.tenant("gone.example-ddns.test", agent.server.port),
        }
    )
    out = io.StringIO()

    status = await asyncio.to_thread(run_check, path, out=out, resolve=resolve)

    table = rows(out.getvalue())
    assert status == 1
    assert table[SUBDOMAIN][1].startswith("OK")
    assert table["gone-clinic"] == (
        f"gone.example-ddns.test:{agent.server.port}",
        "DNS failure: gone.example-ddns.test: Name or service not known",
    )


def test_a_bad_file_lists_every_problem_and_checks_no_agent(
    proxy_setup: ProxySetup, capsys: pytest.CaptureFixture[str]
) -> None:
    path = proxy_setup.write({"www": proxy_setup.tenant("127.0.0.1", 70000)})
    text = path.read_text().replace("portal_domain: localhost", "portal_domain: portal.example")
    path.write_text(text)

    assert main(["check", "--config", str(path)]) == 1

    out = capsys.readouterr().out
    assert "error: tls" in out  # plain HTTP for a real domain
    assert "error: tenants.www (line" in out and "reserved" in out
    assert "error: tenants.www.port (line" in out
    assert "3 problems" in out
    assert " | " not in out  # no table: nothing was dialled


def test_files_the_replica_cannot_read_are_problems(
    proxy_setup: ProxySetup, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = proxy_setup.write({SUBDOMAIN: proxy_setup.tenant("127.0.0.1", closed_port())})
    (tmp_path / "secret").write_text("too short\n")
    path.write_text(path.read_text().replace(str(proxy_setup.keys / "proxy" / "key.pem"), "/nope"))

    assert main(["check", "--config", str(path)]) == 1

    out = capsys.readouterr().out
    assert "error: link.key_file (line" in out and "/nope" in out
    assert "error: secret_file (line" in out and "at least 32" in out
    assert "cannot check the agents" in out


def test_an_unreadable_file_exits_two(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--config", str(tmp_path / "missing.yaml")]) == 2
    assert "cannot read" in capsys.readouterr().out
