"""`portico-proxy serve`: refuses a bad config with every problem listed, serves the portal,
logs without the raw path, and stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import sys
from pathlib import Path

import aiohttp
import pytest
import yaml

from protocol.keys import write_identity
from proxy.config import ProxyConfig
from proxy.serve import run_proxy
from tests.proxy.agent_fixtures import SUBDOMAIN, ProxySetup, closed_port

PATIENCE = 20.0


async def run_cli(*args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "proxy.cli", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    async with asyncio.timeout(PATIENCE):
        out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_a_bad_config_is_refused_with_every_problem(tmp_path: Path) -> None:
    path = tmp_path / "proxy.yaml"
    path.write_text("portal_domain: https://x/\nlisten:\n  port: 0\ntenants: {}\nsurprise: 1\n")
    code, _, err = await run_cli("serve", "--config", str(path))
    assert code == 1
    problems = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(problems) >= 4, err
    assert any("portal_domain" in p for p in problems)
    assert any("listen.port" in p for p in problems)
    assert any("surprise" in p for p in problems)
    assert "Traceback" not in err

    code, _, err = await run_cli("serve", "--config", str(tmp_path / "missing.yaml"))
    assert code == 1 and "cannot read" in err and "Traceback" not in err


async def test_a_short_secret_stops_the_start(link_keys: Path, tmp_path: Path) -> None:
    setup = ProxySetup(link_keys, tmp_path)
    path = setup.write({SUBDOMAIN: setup.tenant("127.0.0.1", closed_port())})
    (tmp_path / "secret").write_text("too short\n")
    code, _, err = await run_cli("serve", "--config", str(path))
    assert code == 1
    assert "at least 32 random bytes" in err and "Traceback" not in err


async def test_serves_then_stops_cleanly_on_sigterm(link_keys: Path, tmp_path: Path) -> None:
    setup = ProxySetup(link_keys, tmp_path)
    port = closed_port()
    data = setup.data({SUBDOMAIN: setup.tenant("127.0.0.1", closed_port())})
    data["listen"] = {"host": "127.0.0.1", "port": port}
    path = tmp_path / "proxy.yaml"
    path.write_text(yaml.safe_dump(data))
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "proxy.cli", "serve", "--config", str(path),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        await _until_listening(port)
        host = {"Host": f"{SUBDOMAIN}.localhost:{port}"}
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/sign-in", headers=host) as response:
                assert response.status == 200
                assert response.headers["Cache-Control"] == "no-store"
                assert "Sign in" in await response.text()
            token = "CanaryToken" + "x" * 32
            async with http.get(
                f"http://127.0.0.1:{port}/reset?token={token}", headers=host
            ) as response:
                assert response.status == 200
        process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(PATIENCE):
            _, err = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()

    assert process.returncode == 0
    text = err.decode()
    records = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    events = [r["event"] for r in records]
    assert "proxy.listening" in events and events[-1] == "proxy.stopped"
    routes = [r["route"] for r in records if r["event"] == "http.request"]
    assert routes == ["sign_in_page", "reset_page"]
    assert "CanaryToken" not in text and "/reset" not in text  # aiohttp's own access log is off


async def _until_listening(port: int) -> None:
    async with asyncio.timeout(PATIENCE):
        while True:
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                await asyncio.sleep(0.05)
                continue
            writer.close()
            await writer.wait_closed()
            return


async def test_https_when_tls_is_configured(link_keys: Path, tmp_path: Path) -> None:
    setup = ProxySetup(link_keys, tmp_path)
    write_identity(tmp_path / "web", "example-clinic.portal.example")
    port = closed_port()
    data = setup.data({SUBDOMAIN: setup.tenant("127.0.0.1", closed_port())})
    data["portal_domain"] = "portal.example"
    data["listen"] = {"host": "127.0.0.1", "port": port}
    data["tls"] = {
        "cert_file": str(tmp_path / "web" / "cert.pem"),
        "key_file": str(tmp_path / "web" / "key.pem"),
    }
    config = ProxyConfig.model_validate(data)
    stop = asyncio.Event()
    server = asyncio.create_task(run_proxy(config, stop=stop))
    try:
        await _until_listening(port)
        origin = f"https://{SUBDOMAIN}.portal.example:{port}"
        host = {"Host": f"{SUBDOMAIN}.portal.example:{port}"}
        async with aiohttp.ClientSession() as http:
            url = f"https://127.0.0.1:{port}/sign-in"
            async with http.get(url, headers=host, ssl=False) as response:
                assert response.status == 200
                assert response.headers["Strict-Transport-Security"].startswith("max-age=")
                pre = response.cookies["__Host-pre"].value
                page = await response.text()
            csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page)
            assert csrf is not None
            form = {"csrf": csrf.group(1), "login": "a@example.org", "password": "x" * 12}
            cookie = {"Cookie": f"__Host-pre={pre}"}
            # Over HTTPS the site's origin is https://...; the agent is down, hence 503.
            async with http.post(
                url, data=form, headers={**host, **cookie, "Origin": origin}, ssl=False
            ) as response:
                assert response.status == 503
            async with http.post(
                url,
                data=form,
                headers={**host, **cookie, "Origin": origin.replace("https", "http")},
                ssl=False,
            ) as response:
                assert response.status == 403
        with pytest.raises(aiohttp.ClientError):
            async with aiohttp.ClientSession() as http:
                await http.get(f"http://127.0.0.1:{port}/sign-in", headers=host)
    finally:
        stop.set()
        await server
