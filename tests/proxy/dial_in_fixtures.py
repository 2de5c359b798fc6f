"""Offices whose agents dial in (issue 15): a proxy config with a link listener and dial_out
tenants, and an agent-like responder that dials the listener with real, pinned TLS."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from protocol.aio import DialledLink, LinkServer, Request
from protocol.events import HelloReceived
from protocol.tls import TLSConfig, client_config
from protocol.transport import Timeouts
from proxy.config import ProxyConfig
from tests.proxy.agent_fixtures import ProxySetup
from tests.support.keys import Identity, make_identity

HOST = "127.0.0.1"
SHORT = Timeouts(handshake=2.0, ping_interval=0.5, idle=2.0)


def dial_out_tenant(pins: list[str], name: str, phone: str = "+1 555 0100") -> dict[str, Any]:
    return {"mode": "dial_out", "pins": pins, "name": name, "phone": phone}


def dial_in_config(
    setup: ProxySetup, tenants: dict[str, dict[str, Any]], *, listen: bool = True
) -> ProxyConfig:
    """``tenants`` with a link listener on a free loopback port (or none)."""
    data = setup.data(tenants)
    if listen:
        data["link"]["listen"] = {"host": HOST, "port": 0}
    return ProxyConfig.model_validate(data)


def new_identity(directory: Path, name: str) -> Identity:
    """Another agent key (another office, or the same office's next key)."""
    return make_identity(directory / name, f"portico-agent {name}")


class DialingAgent:
    """An agent-like responder: answers ``practice.info`` and echoes everything else, and
    remembers who asked, over links it dials to the proxy's listener."""

    def __init__(
        self,
        setup: ProxySetup,
        *,
        key_file: Path | None = None,
        cert_file: Path | None = None,
        tls: TLSConfig | None = None,
        name: str = "Dial-in Clinic",
        phone: str = "+1 555 0100",
    ) -> None:
        self.practice = {"name": name, "phone": phone, "timezone": "Europe/Berlin"}
        self.requests: list[Request] = []
        self.hellos: list[HelloReceived] = []
        if tls is None:
            tls = client_config(
                key_file or setup.keys / "agent" / "key.pem",
                cert_file or setup.keys / "agent" / "cert.pem",
                [setup.proxy_pin],
            )
        self.server = LinkServer(
            self._handle,
            tls=tls,
            on_hello=self._hello,
            agent_version="dial-in-test",
            timeouts=SHORT,
        )

    def _hello(self, hello: HelloReceived) -> dict[str, Any]:
        self.hellos.append(hello)
        return self.practice

    async def _handle(self, request: Request) -> Any:
        self.requests.append(request)
        if request.method == "practice.info":
            return self.practice
        return {"method": request.method, "tenant": request.tenant}

    async def dial(self, port: int) -> DialledLink:
        return await self.server.dial(HOST, port)

    async def close(self) -> None:
        await self.server.close(grace=1)
