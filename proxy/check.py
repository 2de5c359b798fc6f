"""``portico-proxy check``: is proxy.yaml usable, and can this replica reach every office?

First the file: every problem is listed at once with its line, as the agent's ``config validate``
does, plus the files it names that this replica must be able to read (link key, secret, HTTPS
certificate). Then each tenant: resolve the agent's host, open the link with the tenant's pins
and ask ``practice.info``, exactly as the running proxy would. One table row per tenant says OK
with the round trip, or why not (refused pin, connection refused, DNS failure, timeout, ...).
"""

from __future__ import annotations

import asyncio
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from protocol.aio import RemoteError
from protocol.config_report import ConfigInvalid, ConfigProblem, with_lines
from protocol.tls import TLSConfig, client_config
from protocol.transport import Timeouts
from proxy.agents import ConnectFailed, Resolver, connect_agent, resolve_host
from proxy.config import ProxyConfig, TenantConfig, parse_proxy_config

REQUESTER_ID = "portico-proxy check"
# Any well-formed pin: loading the link identity must not depend on a tenant being configured.
_ANY_PIN = "sha256/" + "A" * 43 + "="


@dataclass(frozen=True)
class TenantCheck:
    """One row of the table."""

    tenant: str
    agent: str
    """``host:port`` as configured."""
    ok: bool
    result: str
    """"OK (<ms> ms round trip)" or why the link could not be used."""


def local_problems(config: ProxyConfig) -> list[ConfigProblem]:
    """Files the config names that this replica cannot use (no lines attached)."""
    problems: list[ConfigProblem] = []
    link = config.link
    try:
        client_config(link.key_file, link.cert_file, [_ANY_PIN])
    except OSError as exc:
        which = "cert_file" if exc.filename == str(link.cert_file) else "key_file"
        problems.append(
            ConfigProblem(f"link.{which}", None, f"cannot read {exc.filename}: {exc.strerror}")
        )
    except ValueError as exc:
        problems.append(ConfigProblem("link.key_file", None, f"unusable link identity: {exc}"))
    try:
        config.secret()
    except OSError as exc:
        message = f"cannot read {config.secret_file}: {exc.strerror or exc}"
        problems.append(ConfigProblem("secret_file", None, message))
    except ValueError as exc:
        problems.append(ConfigProblem("secret_file", None, str(exc)))
    if config.tls is not None:
        for name in ("cert_file", "key_file"):
            path: Path = getattr(config.tls, name)
            try:
                path.read_bytes()
            except OSError as exc:
                message = f"cannot read {path}: {exc.strerror or exc}"
                problems.append(ConfigProblem(f"tls.{name}", None, message))
    return problems


async def check_tenant(
    tenant: str,
    agent: TenantConfig,
    tls: TLSConfig,
    *,
    resolve: Resolver = resolve_host,
    timeout: float = 10.0,
) -> TenantCheck:
    """Connect to one agent as the proxy would, and time a ``practice.info`` round trip."""
    where = f"{agent.host}:{agent.port}"
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
        return TenantCheck(tenant, where, False, failure.reason)
    try:
        started = time.perf_counter()
        await client.request("practice.info", {}, deadline=timeout)
        elapsed_ms = (time.perf_counter() - started) * 1000
    except RemoteError as exc:
        return TenantCheck(tenant, where, False, f"the agent answered {exc.code}: {exc.message}")
    finally:
        await client.close()
    return TenantCheck(tenant, where, True, f"OK ({elapsed_ms:.1f} ms round trip)")


async def check_tenants(
    config: ProxyConfig, *, resolve: Resolver = resolve_host, timeout: float = 10.0
) -> list[TenantCheck]:
    """Every tenant, concurrently, in the config's order. The link identity must load (see
    :func:`local_problems`), else this raises OSError or ValueError."""
    link = config.link
    checks = [
        check_tenant(
            name,
            agent,
            client_config(link.key_file, link.cert_file, agent.pins),
            resolve=resolve,
            timeout=timeout,
        )
        for name, agent in config.tenants.items()
    ]
    return list(await asyncio.gather(*checks))


def format_table(rows: list[TenantCheck]) -> str:
    cells = [("tenant", "agent", "result"), *((r.tenant, r.agent, r.result) for r in rows)]
    widths = [max(len(row[i]) for row in cells) for i in range(3)]
    lines = [f"{t:<{widths[0]}} | {a:<{widths[1]}} | {r}" for t, a, r in cells]
    lines.insert(1, "-+-".join("-" * width for width in widths))
    return "\n".join(lines)


def run_check(
    path: Path,
    *,
    out: TextIO | None = None,
    timeout: float = 10.0,
    resolve: Resolver = resolve_host,
) -> int:
    """The whole command. Exit status: 0 when the file is usable and every agent answered;
    1 when anything is wrong; 2 when the file cannot be read."""
    out = out or sys.stdout
    try:
        raw = path.read_bytes()
    except OSError as exc:
        print(f"error: cannot read {path}: {exc.strerror or exc}", file=out)
        return 2
    try:
        config = parse_proxy_config(raw)
    except ConfigInvalid as invalid:
        for problem in invalid.problems:
            print(f"error: {problem}", file=out)
        count = len(invalid.problems)
        print(f"{count} problem{'' if count == 1 else 's'} in {path}", file=out)
        return 1
    problems = with_lines(local_problems(config), raw.decode("utf-8-sig"))
    for problem in problems:
        print(f"error: {problem}", file=out)
    if any(p.path.startswith("link.") for p in problems):
        print("cannot check the agents without this proxy's link key", file=out)
        return 1
    rows = asyncio.run(check_tenants(config, resolve=resolve, timeout=timeout))
    print(format_table(rows), file=out)
    working = sum(row.ok for row in rows)
    print(f"{working} of {len(rows)} agents OK", file=out)
    return 0 if working == len(rows) and not problems else 1
