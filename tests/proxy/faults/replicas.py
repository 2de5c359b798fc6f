"""`portico-proxy serve` replicas as separate processes, HAProxy in front, and what they logged.

The HAProxy config is docs/haproxy.example.cfg itself, with only its addresses, certificate and
in-memory socket name swapped for loopback ones, so the documented setup is the one the fault
tests run.
"""

from __future__ import annotations

import asyncio
import csv
import json
import re
import shutil
import subprocess
from pathlib import Path

import yaml

from agent.db.pool import DatabaseSettings
from protocol.keys import generate_identity
from tests.proxy.agent_fixtures import SUBDOMAIN, ProxySetup
from tests.support.daemons import Daemon, agent_yaml, console_script
from tests.support.ports import free_port

EXAMPLE = Path(__file__).resolve().parents[3] / "docs" / "haproxy.example.cfg"
HOST = f"{SUBDOMAIN}.localhost"


def proxy_yaml(
    directory: Path, keys: Path, port: int, agent_port: int, *, name: str, behind_tls: bool
) -> Path:
    """A replica's proxy.yaml; replicas made in one directory share its secret_file."""
    setup = ProxySetup(keys, directory)
    data = setup.data({SUBDOMAIN: setup.tenant("127.0.0.1", agent_port)})
    data["listen"] = {"host": "127.0.0.1", "port": port}
    if behind_tls:  # as docs/haproxy.example.cfg tells the operator
        data["behind_tls_proxy"] = True
        data["trusted_proxies"] = ["127.0.0.1/32"]
    # Several proxies run side by side here: no fixed metrics port to collide on.
    data["metrics"] = {"enabled": False}
    path = directory / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def dial_out_replica_yaml(
    directory: Path, keys: Path, port: int, link_port: int, *, name: str
) -> Path:
    """A replica behind HAProxy (as docs/haproxy.example.cfg says) with a link listener, and
    the office as a dial-out tenant: its key pin, no address."""
    setup = ProxySetup(keys, directory)
    tenant = {
        "mode": "dial_out",
        "pins": [setup.agent_pin],
        "name": "Example",
        "phone": "+1 555 0100",
    }
    data = setup.data({SUBDOMAIN: tenant})
    data["listen"] = {"host": "127.0.0.1", "port": port}
    data["link"]["listen"] = {"host": "127.0.0.1", "port": link_port}
    data["behind_tls_proxy"] = True
    data["trusted_proxies"] = ["127.0.0.1/32"]
    path = directory / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def dial_out_replicas(
    directory: Path, keys: Path, count: int
) -> tuple[list[Daemon], list[int], list[int]]:
    """`count` replica processes (not started) with link listeners and the office as a
    dial-out tenant; with their web ports and link ports."""
    web = [free_port() for _ in range(count)]
    links = [free_port() for _ in range(count)]
    replicas = [
        Daemon.proxy(dial_out_replica_yaml(directory, keys, w, lp, name=f"proxy{n}"), w)
        for n, (w, lp) in enumerate(zip(web, links, strict=True), start=1)
    ]
    return replicas, web, links


def dial_out_agent(
    directory: Path,
    settings: DatabaseSettings,
    keys: Path,
    portal: list[str],
    backoff_cap: int,
    links_per_address: int = 1,
) -> Daemon:
    """`portico-agent run` in dial-out mode (as docs/install.md sets it up), dialling `portal`;
    its own process, listening on nothing."""
    path = agent_yaml(directory, settings, keys, 1234)
    data = yaml.safe_load(path.read_text())
    del data["listen"]
    data["link"] = {
        "mode": "dial_out",
        "portal": portal,
        "links_per_address": links_per_address,
        "backoff_cap_seconds": backoff_cap,
    }
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    command = [*console_script("portico-agent", "agent.cli"), "run", "--config", str(path)]
    return Daemon(command, None, path.with_suffix(".log"))


def pages_served(replica: Daemon, route: str = "appointments") -> int:
    """How many `route` pages the replica answered with 200, from its JSON access log."""
    served = 0
    for line in replica.log_path.read_text(errors="replace").splitlines():
        if line.startswith("{") and '"http.request"' in line:
            record = json.loads(line)
            served += record.get("route") == route and record.get("status") == 200
    return served


def _swap(text: str, old: str, new: str, count: int = 1) -> str:
    assert text.count(old) == count, f"{EXAMPLE.name} no longer has exactly {count} {old!r}"
    return text.replace(old, new)


def _with_servers(text: str, backend: str, servers: list[str]) -> str:
    """`backend`'s section of the config with its `server` lines replaced by `servers`."""
    section = re.search(rf"^backend {backend}\n.*?(?=^\S|\Z)", text, flags=re.MULTILINE | re.DOTALL)
    assert section, f"{EXAMPLE.name} has no backend {backend}"
    lines = section[0].splitlines(keepends=True)
    at = [n for n, line in enumerate(lines) if re.match(r" +server \S+ \S+", line)]
    assert at, f"{EXAMPLE.name}: backend {backend} has no server line"
    kept = [line for n, line in enumerate(lines) if n not in at]
    rewritten = kept[: at[0]] + [f"    {line}\n" for line in servers] + kept[at[0] :]
    return text[: section.start()] + "".join(rewritten) + text[section.end() :]


def loopback_haproxy(
    directory: Path,
    https_port: int,
    http_port: int,
    replicas: list[int],
    links: list[int] | None = None,
) -> Path:
    """docs/haproxy.example.cfg with loopback addresses, a fresh certificate, `replicas` (web
    ports) behind `backend portico_proxies` and `links` (link listener ports) behind `backend
    portico_links`; without `links`, that backend's servers are disabled (nothing dials in)."""
    key, cert = generate_identity(f"*.{HOST.split('.', 1)[1]}", algorithm="ec")
    pem = directory / "portal.pem"
    pem.write_bytes(cert + key)
    text = EXAMPLE.read_text()
    text = _swap(text, "bind :443\n", f"bind 127.0.0.1:{https_port}\n")
    text = _swap(text, "bind :80\n", f"bind 127.0.0.1:{http_port}\n")
    text = _swap(text, "/etc/haproxy/certs/portal.pem", str(pem))
    # The abstract socket between port 443 and the HTTPS frontend is one per machine: a name
    # of this HAProxy's own, so tests running side by side never meet each other's.
    text = _swap(text, "abns@portico-portal ", f"abns@portico-portal-{https_port} ", count=2)
    web = [f"server proxy{n} 127.0.0.1:{port}" for n, port in enumerate(replicas, start=1)]
    text = _with_servers(text, "portico_proxies", web)
    if links is None:
        linked = ["server proxy1 127.0.0.1:9 disabled"]
    else:
        linked = [f"server proxy{n} 127.0.0.1:{port}" for n, port in enumerate(links, start=1)]
    text = _with_servers(text, "portico_links", linked)
    # The test's only addition: a stats socket, to read how many requests HAProxy retried.
    stats = f"global\n    stats socket {directory / 'haproxy.sock'} mode 600 level admin\n\n"
    path = directory / "haproxy.cfg"
    path.write_text(stats + text)
    checked = check(path)
    assert checked.returncode == 0, f"haproxy -c refused the config:\n{checked.stderr}"
    return path


def check(config: Path) -> subprocess.CompletedProcess[str]:
    """`haproxy -c`: HAProxy's own verdict on a config file, without starting it."""
    return subprocess.run(
        [haproxy_program(), "-c", "-f", str(config)], capture_output=True, text=True, check=False
    )


async def _stats(config: Path) -> list[dict[str, str]]:
    """HAProxy's `show stat` table, from the stats socket loopback_haproxy adds."""
    reader, writer = await asyncio.open_unix_connection(config.with_name("haproxy.sock"))
    writer.write(b"show stat\n")
    await writer.drain()
    table = (await reader.read()).decode()
    writer.close()
    header, *rows = table.lstrip("# ").splitlines()
    return list(csv.DictReader(rows, fieldnames=header.split(",")))


async def retries(config: Path, server: str) -> dict[str, int]:
    """HAProxy's counts for one server of the backend: `retried` (wretr) and `redispatched`
    (wredis)."""
    for row in await _stats(config):
        if row["pxname"] == "portico_proxies" and row["svname"] == server:
            return {"retried": int(row["wretr"] or 0), "redispatched": int(row["wredis"] or 0)}
    raise AssertionError(f"no server {server} in HAProxy's stats")


async def until_replicas_up(config: Path, count: int, patience: float = 30.0) -> None:
    """Wait until HAProxy's health checks have every replica of `portico_proxies` UP (a
    replica warming up after its start answers /healthz with 503 until its offices dial in)."""
    async with asyncio.timeout(patience):
        while True:
            rows = await _stats(config)
            up = [r for r in rows if r["pxname"] == "portico_proxies" and r["status"] == "UP"]
            if len(up) >= count:
                return
            await asyncio.sleep(0.1)


def haproxy_program() -> str:
    # Debian installs it in /usr/sbin, which is not on every user's PATH.
    found = shutil.which("haproxy") or shutil.which("haproxy", path="/usr/sbin")
    assert found, "haproxy not found: install the haproxy package (.ci/run does)"
    return found


def haproxy(config: Path, port: int) -> Daemon:
    """HAProxy in the foreground (-db), so the test owns the process and its exit."""
    return Daemon([haproxy_program(), "-db", "-f", str(config)], port, config.with_suffix(".log"))
