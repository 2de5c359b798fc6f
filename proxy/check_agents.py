"""The per-office lines of ``portico-proxy check``: each listen-mode office's agent reached and
pinned exactly as the running proxy would reach it, with a timed ``practice.info``; each
dial_out office listed with its pins (its agent connects to the proxy, so nothing is dialled).

Split out of proxy/check.py, which keeps the replica's own items (config, keys, secret, web
certificate, ports) and the command itself: this part is the only one that opens the link, and
it reads on its own (a tenant, its TLS settings, the fixes an office can act on).
"""

from __future__ import annotations

import asyncio
import time

from protocol.aio import RemoteError
from protocol.service.check_report import CheckResult, fail, ok
from protocol.tls import TLSConfig, client_config
from protocol.transport import Timeouts
from proxy.config import ProxyConfig, TenantConfig
from proxy.dialling import ConnectFailed, Resolver, connect_agent, resolve_host

REQUESTER_ID = "portico-proxy check"
_FIXES = {
    "dns": "check tenants.{t}.host; a dynamic-DNS name must be kept up to date by the office",
    "refused": "the agent is not running there, or the office's router does not forward port "
    "{port} to it: ask the office to run `portico-agent check`",
    "timeout": "a firewall swallows the connection: the office must allow port {port} from "
    "this replica's address (and list it in listen.allowed_proxies)",
    "pin": "if the office changed its key, add the pin it sends you to tenants.{t}.pins",
    "tls": "the office must add this proxy's pin to tls.proxy_pins and this replica's address "
    "to listen.allowed_proxies",
    "agent": "tenants.{t} points at another office's agent: check its host and port",
}


def check_dial_out_tenant(tenant: str, agent: TenantConfig) -> CheckResult:
    """A dial_out office is not reached from here: its agent connects to the link listener."""
    pins = agent.pins[0] if len(agent.pins) == 1 else f"one of {', '.join(agent.pins)}"
    return ok(
        f"agent {tenant}",
        f"dials in to link.listen (mode: dial_out), known by {pins}; "
        "`portico-agent check` at the office tests its link",
    )


async def check_tenant(
    tenant: str,
    agent: TenantConfig,
    tls: TLSConfig,
    *,
    resolve: Resolver = resolve_host,
    timeout: float = 10.0,
) -> CheckResult:
    """Connect to one agent as the proxy would, and time a ``practice.info`` round trip."""
    where = f"{agent.host}:{agent.port}"
    item = f"agent {tenant}"
    try:
        client, _ = await connect_agent(
            tenant,
            agent,
            tls,
            requester_id=REQUESTER_ID,
            resolve=resolve,
            timeouts=Timeouts(handshake=timeout),
        )
    except ConnectFailed as failure:
        fix = _FIXES.get(failure.kind)
        fixes = (fix.format(t=tenant, port=agent.port),) if fix else ()
        return fail(item, f"{where}: {failure.reason}", fix=fixes)
    try:
        started = time.perf_counter()
        info = await client.request("practice.info", {}, deadline=timeout)
        elapsed_ms = (time.perf_counter() - started) * 1000
    except RemoteError as exc:
        return fail(
            item,
            f"{where}: the agent answered {exc.code}: {exc.message}",
            fix=("ask the office to run `portico-agent check` (often: its database is down)",),
        )
    finally:
        await client.close()
    pinned = agent.pins[0] if len(agent.pins) == 1 else f"one of its {len(agent.pins)} pins"
    return ok(
        item,
        f"{where}: {info.get('name')!r} answered in {elapsed_ms:.1f} ms; pinned ({pinned})",
    )


async def check_tenants(
    config: ProxyConfig, *, resolve: Resolver = resolve_host, timeout: float = 10.0
) -> list[CheckResult]:
    """Every tenant, concurrently, in the config's order (dial_out ones listed, not reached).
    The link identity must load (see :func:`proxy.check.check_link_key`), else this raises
    OSError or ValueError."""
    link = config.link

    async def listed(tenant: str, agent: TenantConfig) -> CheckResult:
        return check_dial_out_tenant(tenant, agent)

    checks = [
        listed(name, agent)
        if agent.dials_in
        else check_tenant(
            name,
            agent,
            client_config(link.key_file, link.cert_file, agent.pins),
            resolve=resolve,
            timeout=timeout,
        )
        for name, agent in config.tenants.items()
    ]
    return list(await asyncio.gather(*checks))
