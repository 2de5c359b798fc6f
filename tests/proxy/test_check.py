"""`portico-proxy check`: one line per item (config, link key, secret, web certificate, listen
port, then each office's agent), in `portico-agent check`'s style, and an exit status a deploy
script can trust."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import io
import re
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from proxy.check import run_check
from proxy.cli import main
from tests.proxy.agent_fixtures import SUBDOMAIN, Offices, ProxySetup, closed_port
from tests.proxy.portal import proxy_config, serve_proxy

_LINE = re.compile(r"^(OK|WARN|FAIL|SKIP)\s+(.+?)\s{2,}(.*)$")
NOW = datetime.datetime.now(datetime.UTC)


def lines(output: str) -> dict[str, tuple[str, str]]:
    """item -> (status, summary), from the printed lines."""
    found = {}
    for line in output.splitlines():
        match = _LINE.match(line)
        if match:
            found[match[2]] = (match[1], match[3])
    return found


def write(setup: ProxySetup, tenants: dict[str, Any], **overrides: Any) -> Path:
    """proxy.yaml on a free listen port (the fixture's 8080 may be taken on this machine)."""
    path = setup.write(tenants)
    data = yaml.safe_load(path.read_text())
    data["listen"]["port"] = closed_port()
    data.update(overrides)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


async def check(*argv: str) -> int:
    # The agents run on this test's event loop; the command runs its own, as it would in a shell.
    return await asyncio.to_thread(main, ["check", *argv])


def run(path: Path, **kwargs: Any) -> tuple[int, str]:
    out = io.StringIO()
    status = run_check(path, out=out, **kwargs)
    return status, out.getvalue()


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


def web_certificate(directory: Path, names: list[str], *, days: int) -> dict[str, str]:
    """A certificate (self-signed; the check reads it, it does not trust it) and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - datetime.timedelta(days=30))
        .not_valid_after(NOW + datetime.timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), False)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "web-cert.pem", directory / "web-key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return {"cert_file": str(cert_file), "key_file": str(key_file)}


async def test_a_ready_replica_passes_every_item_and_exits_zero(
    offices: Offices, proxy_setup: ProxySetup, capsys: pytest.CaptureFixture[str]
) -> None:
    agent = await offices.start()
    path = write(proxy_setup, {SUBDOMAIN: proxy_setup.tenant("127.0.0.1", agent.server.port)})

    assert await check("--config", str(path)) == 0

    out = capsys.readouterr().out
    found = lines(out)
    assert [item for item in found] == [
        "config",
        "link key",
        "secret",
        "web TLS",
        "listen port",
        "metrics",
        f"agent {SUBDOMAIN}",
    ]
    assert all(status == "OK" for status, _ in found.values())
    assert found["link key"][1].endswith(proxy_setup.proxy_pin)
    summary = found[f"agent {SUBDOMAIN}"][1]
    assert summary.startswith(f"127.0.0.1:{agent.server.port}: 'Example Family Clinic' answered")
    assert summary.endswith(f"pinned ({proxy_setup.agent_pin})")
    assert out.splitlines()[-1] == "7 OK (1 of 1 agents OK)"


async def test_each_failing_agent_gets_its_reason_and_fix_and_the_exit_status_is_one(
    offices: Offices, proxy_setup: ProxySetup
) -> None:
    agent = await offices.start()
    port = agent.server.port
    async with silent_listener() as silent:
        path = write(
            proxy_setup,
            {
                SUBDOMAIN: proxy_setup.tenant("127.0.0.1", port),
                "wrong-pin": proxy_setup.tenant("127.0.0.1", port, pins=[proxy_setup.proxy_pin]),
                "closed-port": proxy_setup.tenant("127.0.0.1", closed_port()),
                "silent": proxy_setup.tenant("127.0.0.1", silent),
            },
        )

        status, out = await asyncio.to_thread(run, path, timeout=0.5)

    found = lines(out)
    assert status == 1
    assert found[f"agent {SUBDOMAIN}"][0] == "OK"
    assert found["agent wrong-pin"] == (
        "FAIL",
        f"127.0.0.1:{port}: refused pin: the agent's key ({proxy_setup.agent_pin}) "
        "is not pinned here",
    )
    assert found["agent closed-port"][1].endswith(
        "connection refused (nothing listening on that port)"
    )
    assert found["agent silent"][1].endswith("timed out (no answer within the handshake timeout)")
    assert "fix: a firewall swallows the connection" in out
    assert "fix: if the office changed its key, add the pin" in out
    assert out.splitlines()[-1].endswith("(1 of 4 agents OK)")


async def test_a_name_that_does_not_resolve_is_a_dns_failure(
    offices: Offices, proxy_setup: ProxySetup
) -> None:
    agent = await offices.start()

    # Stand-in for DNS: one office's name exists, the other's does not (NXDOMAIN).
    async def resolve(host: str, port: int) -> list[str]:
        if host == "clinic.example-ddns.test":
            return ["127.0.0.1"]
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    path = write(
        proxy_setup,
        {
            SUBDOMAIN: proxy_setup.tenant("clinic.example-ddns.test", agent.server.port),
            "gone-clinic": proxy_setup.tenant("gone.example-ddns.test", agent.server.port),
        },
    )

    status, out = await asyncio.to_thread(run, path, resolve=resolve)

    found = lines(out)
    assert status == 1
    assert found[f"agent {SUBDOMAIN}"][0] == "OK"
    assert found["agent gone-clinic"] == (
        "FAIL",
        f"gone.example-ddns.test:{agent.server.port}: DNS failure: gone.example-ddns.test: "
        "Name or service not known",
    )
    assert "fix: check tenants.gone-clinic.host" in out


def test_a_bad_file_lists_every_problem_and_checks_nothing_else(
    proxy_setup: ProxySetup, capsys: pytest.CaptureFixture[str]
) -> None:
    path = proxy_setup.write({"www": proxy_setup.tenant("127.0.0.1", 70000)})
    text = path.read_text().replace("portal_domain: localhost", "portal_domain: portal.example")
    path.write_text(text)

    assert main(["check", "--config", str(path)]) == 1

    out = capsys.readouterr().out
    assert out.startswith(f"FAIL  config       {path}: 3 problems")
    assert "  tls" in out  # plain HTTP for a real domain
    assert "tenants.www (line" in out and "reserved" in out
    assert "tenants.www.port (line" in out
    assert list(lines(out)) == ["config"]  # nothing else was tried


def test_files_the_replica_cannot_read_fail_and_the_agents_are_not_checked(
    proxy_setup: ProxySetup, tmp_path: Path
) -> None:
    path = write(proxy_setup, {SUBDOMAIN: proxy_setup.tenant("127.0.0.1", closed_port())})
    (tmp_path / "secret").write_text("too short\n")
    path.write_text(path.read_text().replace(str(proxy_setup.keys / "proxy" / "key.pem"), "/nope"))

    status, out = run(path)

    found = lines(out)
    assert status == 1
    assert found["link key"][0] == "FAIL"
    assert re.match(r"link\.key_file \(line \d+\): cannot read /nope", found["link key"][1])
    assert found["secret"][0] == "FAIL" and "at least 32" in found["secret"][1]
    assert found[f"agent {SUBDOMAIN}"] == ("SKIP", "not checked: no link key")


def test_an_unreadable_file_exits_two(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--config", str(tmp_path / "missing.yaml")]) == 2
    assert "FAIL  config       cannot read" in capsys.readouterr().out


def test_a_port_held_by_another_program_fails(proxy_setup: ProxySetup) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        path = write(
            proxy_setup,
            {SUBDOMAIN: proxy_setup.tenant("127.0.0.1", closed_port())},
            listen={"host": "127.0.0.1", "port": port},
        )

        _, out = run(path, timeout=0.3)

    assert lines(out)["listen port"] == ("FAIL", f"127.0.0.1:{port} is in use by another program")


async def test_a_port_held_by_a_running_portico_proxy_is_ok(proxy_setup: ProxySetup) -> None:
    config = proxy_config(proxy_setup, closed_port())
    async with serve_proxy(config) as client:
        port = client.server.port
        path = write(
            proxy_setup,
            {SUBDOMAIN: proxy_setup.tenant("127.0.0.1", closed_port())},
            listen={"host": "127.0.0.1", "port": port},
        )

        _, out = await asyncio.to_thread(run, path, timeout=2)

    assert lines(out)["listen port"] == (
        "OK",
        f"127.0.0.1:{port} is in use by a running Portico proxy",
    )


@pytest.mark.parametrize(
    ("names", "days", "expected"),
    [
        (["*.portal.example"], 90, ("OK", "covers every office, valid until")),
        (["*.portal.example"], 10, ("WARN", "expires on")),
        (["*.portal.example"], -1, ("FAIL", "expired on")),
        (["portal.example"], 90, ("FAIL", f"does not cover {SUBDOMAIN}.portal.example")),
    ],
)
def test_the_web_certificate_must_cover_every_office_and_not_expire(
    proxy_setup: ProxySetup,
    tmp_path: Path,
    names: list[str],
    days: int,
    expected: tuple[str, str],
) -> None:
    path = write(
        proxy_setup,
        {SUBDOMAIN: proxy_setup.tenant("127.0.0.1", closed_port())},
        portal_domain="portal.example",
        tls=web_certificate(tmp_path, names, days=days),
    )

    _, out = run(path)

    status, summary = lines(out)["web TLS"]
    assert (status, expected[1] in summary) == (expected[0], True), summary


def test_a_web_key_that_does_not_match_its_certificate_fails(
    proxy_setup: ProxySetup, tmp_path: Path
) -> None:
    tls = web_certificate(tmp_path, ["*.portal.example"], days=90)
    (tmp_path / "other").mkdir()
    tls["key_file"] = web_certificate(tmp_path / "other", ["x.example"], days=90)["key_file"]
    path = write(
        proxy_setup,
        {SUBDOMAIN: proxy_setup.tenant("127.0.0.1", closed_port())},
        portal_domain="portal.example",
        tls=tls,
    )

    _, out = run(path)

    status, summary = lines(out)["web TLS"]
    assert status == "FAIL"
    assert summary.startswith("tls.cert_file and tls.key_file are not a matching PEM pair")
