"""`portico-proxy serve` under a service manager: READY, WATCHDOG, RELOADING/READY and STOPPING
through a real NOTIFY_SOCKET, SIGHUP re-reading proxy.yaml, and exit 0 on SIGTERM.

The proxy is the real console script in a subprocess; its tenant's agent is not running (the
proxy starts and serves without it, showing the office's phone number).
"""

from __future__ import annotations

import sys
from pathlib import Path
from signal import SIGHUP, SIGTERM
from typing import Any

import aiohttp
import yaml

from tests.proxy.agent_fixtures import SUBDOMAIN, ProxySetup, closed_port
from tests.support.daemons import Daemon
from tests.support.ports import accepts_tcp, free_port
from tests.support.systemd import NotifySocket, daemon

PROXY = str(Path(sys.executable).with_name("portico-proxy"))


class ProxyFile:
    """proxy.yaml for one tenant whose agent is down, on a free loopback port."""

    def __init__(self, setup: ProxySetup) -> None:
        self.path = setup.directory / "proxy.yaml"
        self.port = free_port()
        self.data = setup.data({SUBDOMAIN: setup.tenant("127.0.0.1", closed_port())})
        self.data["listen"] = {"host": "127.0.0.1", "port": self.port}
        self.data["metrics"] = {"enabled": False}
        self.save()

    def save(self) -> None:
        self.path.write_text(yaml.safe_dump(self.data, sort_keys=False))

    def run(self, notify: NotifySocket, **options: Any) -> Any:
        return daemon(PROXY, "serve", "--config", str(self.path), notify=notify, **options)


async def sign_in_page_status(port: int) -> int:
    host = {"Host": f"{SUBDOMAIN}.localhost:{port}"}
    url = f"http://127.0.0.1:{port}/sign-in"
    async with aiohttp.ClientSession() as http, http.get(url, headers=host) as response:
        return response.status


async def reload(proxy: Daemon, notify: NotifySocket) -> None:
    proxy.send(SIGHUP)
    await notify.until("RELOADING")
    await notify.until("READY")


async def test_ready_watchdog_reload_and_stopping_arrive_in_order(
    proxy_setup: ProxySetup, notify: NotifySocket
) -> None:
    config = ProxyFile(proxy_setup)
    async with config.run(notify, watchdog_usec=400_000) as proxy:
        await notify.until("READY")
        await notify.until("WATCHDOG")
        await reload(proxy, notify)
        await notify.until("WATCHDOG")
        proxy.send(SIGTERM)
        await notify.until("STOPPING")
        assert await proxy.exit_code() == 0
    assert [s for s in notify.states() if s != "WATCHDOG"] == [
        "READY",
        "RELOADING",
        "READY",
        "STOPPING",
    ]
    assert notify.senders == {proxy.process.pid}
    assert proxy.events()[-1]["event"] == "proxy.stopped"


async def test_ready_comes_once_the_site_listens(
    proxy_setup: ProxySetup, notify: NotifySocket
) -> None:
    config = ProxyFile(proxy_setup)
    async with config.run(notify) as proxy:
        await notify.until("READY")
        assert await accepts_tcp(config.port)
        assert await sign_in_page_status(config.port) == 200
        proxy.send(SIGTERM)
        assert await proxy.exit_code() == 0


async def test_sighup_applies_the_log_level_and_registry_and_names_restart_settings(
    proxy_setup: ProxySetup, notify: NotifySocket
) -> None:
    config = ProxyFile(proxy_setup)
    async with config.run(notify) as proxy:
        await notify.until("READY")
        config.data["logging"] = {"level": "debug"}
        config.data["tenants"][SUBDOMAIN]["phone"] = "+1 555 0199"
        config.data["trusted_proxies"] = ["10.0.0.0/8"]
        config.save()

        await reload(proxy, notify)
        reloaded = await proxy.wait_for_log("proxy.reloaded")
        assert await sign_in_page_status(config.port) == 200
        proxy.send(SIGTERM)
        assert await proxy.exit_code() == 0
    assert reloaded["applied"] == ["logging.level", f"tenants.{SUBDOMAIN}.phone"]
    (restart,) = proxy.events("proxy.reload_needs_restart")
    assert restart["settings"] == ["trusted_proxies"]


async def test_sighup_with_an_invalid_file_keeps_the_running_config(
    proxy_setup: ProxySetup, notify: NotifySocket
) -> None:
    config = ProxyFile(proxy_setup)
    async with config.run(notify) as proxy:
        await notify.until("READY")
        config.data["rate_limit"] = {"burst": 0}
        config.save()

        await reload(proxy, notify)
        rejected = await proxy.wait_for_log("proxy.reload_rejected")
        assert await sign_in_page_status(config.port) == 200
        proxy.send(SIGTERM)
        assert await proxy.exit_code() == 0
    assert any(p.startswith("rate_limit.burst (line ") for p in rejected["problems"])
    assert not proxy.events("proxy.reloaded")
