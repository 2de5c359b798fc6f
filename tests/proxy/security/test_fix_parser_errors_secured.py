"""Issue 11, security: "The HTTP parser's own 400 answers (bad request line, bad Content-Length,
oversized or duplicated headers, TE+CL) carry none of the security headers, echo the bad input
and send `Server: Python/3.11 aiohttp/...`. Give them the same headers and no version banner."

Raw sockets against the real `run_proxy` server set-up on loopback, over plain HTTP and HTTPS:
aiohttp's parser answers these before any middleware or `on_response_prepare` hook runs.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from protocol.keys import write_identity
from proxy.config import ProxyConfig
from proxy.security import SECURITY_HEADERS
from proxy.serve import run_proxy
from tests.protocol.link_fixtures import read_until_closed
from tests.proxy.agent_fixtures import SUBDOMAIN, ProxySetup, closed_port
from tests.proxy.test_app_serve import _until_listening
from tests.support.logs import LogCapture

CANARY = b"CanaryInput7"
HOST = f"Host: {SUBDOMAIN}.localhost\r\n".encode()

MALFORMED = {
    "request line": b"GET /sign-in?x=" + CANARY + b" HTTP/1.1 extra\r\n" + HOST + b"\r\n",
    "method": b"G<" + CANARY + b"> /sign-in HTTP/1.1\r\n" + HOST + b"\r\n",
    "content-length": b"POST /sign-in HTTP/1.1\r\n" + HOST + b"Content-Length: 1"
    + CANARY + b"\r\n\r\n",
    "oversized header": b"GET /sign-in HTTP/1.1\r\n" + HOST + b"X-Long: " + CANARY
    + b"a" * 9000 + b"\r\n\r\n",
    "duplicate content-length": b"POST /sign-in HTTP/1.1\r\n" + HOST
    + b"Content-Length: 1\r\nContent-Length: 2\r\n\r\n" + CANARY,
    "duplicate host": b"GET /sign-in HTTP/1.1\r\n" + HOST + b"Host: " + CANARY + b"\r\n\r\n",
    "te and cl": b"POST /sign-in HTTP/1.1\r\n" + HOST
    + b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n",
}  # fmt: skip


def head_and_body(raw: bytes) -> tuple[int, dict[str, list[str]], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers: dict[str, list[str]] = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers.setdefault(name.strip().lower(), []).append(value.strip())
    return int(status_line.split()[1]), headers, body


def assert_no_banner(headers: dict[str, list[str]]) -> None:
    for value in headers.get("server", []):
        assert "aiohttp" not in value.lower() and "python" not in value.lower(), value
        assert not any(c.isdigit() for c in value), f"a version in Server: {value}"


@pytest.fixture(params=["http", "https"])
async def proxy_port(
    request: pytest.FixtureRequest, link_keys: Path, tmp_path: Path, logs: LogCapture
) -> AsyncIterator[tuple[int, ssl.SSLContext | None]]:
    setup = ProxySetup(link_keys, tmp_path)
    port = closed_port()
    data = setup.data({SUBDOMAIN: setup.tenant("127.0.0.1", closed_port())})
    data["listen"] = {"host": "127.0.0.1", "port": port}
    client_tls = None
    if request.param == "https":
        write_identity(tmp_path / "web", f"{SUBDOMAIN}.localhost")
        data["tls"] = {
            "cert_file": str(tmp_path / "web" / "cert.pem"),
            "key_file": str(tmp_path / "web" / "key.pem"),
        }
        client_tls = ssl.create_default_context()
        client_tls.check_hostname = False
        client_tls.verify_mode = ssl.CERT_NONE
    stop = asyncio.Event()
    server = asyncio.create_task(run_proxy(ProxyConfig.model_validate(data), stop=stop))
    try:
        await _until_listening(port)
        yield port, client_tls
    finally:
        stop.set()
        await server


async def exchange(port: int, tls: ssl.SSLContext | None, raw: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=tls)
    try:
        writer.write(raw)
        return await read_until_closed(reader)
    finally:
        writer.close()


@pytest.mark.parametrize("name", sorted(MALFORMED))
async def test_the_parsers_400_is_secured_and_does_not_echo(
    proxy_port: tuple[int, ssl.SSLContext | None], logs: LogCapture, name: str
) -> None:
    port, tls = proxy_port

    status, headers, body = head_and_body(await exchange(port, tls, MALFORMED[name]))

    assert status == 400
    for header, value in SECURITY_HEADERS.items():
        assert headers.get(header.lower()) == [value], header
    assert_no_banner(headers)
    assert CANARY not in body and b"Traceback" not in body
    assert CANARY.decode() not in logs.stream.getvalue()
    assert not logs.records(level="error")


async def test_a_normal_page_has_no_version_banner_either(
    proxy_port: tuple[int, ssl.SSLContext | None],
) -> None:
    port, tls = proxy_port
    raw = b"GET /sign-in HTTP/1.1\r\n" + HOST + b"Connection: close\r\n\r\n"

    status, headers, _ = head_and_body(await exchange(port, tls, raw))

    assert status == 200
    for header, value in SECURITY_HEADERS.items():
        assert headers.get(header.lower()) == [value], header
    assert_no_banner(headers)
