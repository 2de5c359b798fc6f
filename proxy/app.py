"""The patient portal as an aiohttp application: `create_app(config)`.

What the app holds (typed `web.AppKey`s, proxy/views/base.py), its middlewares in their order
(proxy/middlewares.py), its routes (proxy/views/__init__.py), templates and static files, and
the resources that open and close with it (the links to the agents, the metrics listener).
Running it as a process (listening, signals, the service manager) is proxy/serve.py.
"""

from __future__ import annotations

import os
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web

from proxy.agents import AgentConnections
from proxy.config import ProxyConfig
from proxy.metrics import setup_metrics
from proxy.middlewares import BODY_SECONDS, MAX_BODY, PORTAL_MIDDLEWARES, REQUEST_BODY_SECONDS
from proxy.reload import ProxyReloader, RunningConfig, apply_live_settings, rate_limiters
from proxy.security import add_security_headers, parse_networks
from proxy.views import ROUTES
from proxy.views.base import AGENTS, CONFIG, RATE_LIMITS, SCHEME, SECRET, TRUSTED_PROXIES
from proxy.views.times import local_when

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"


async def _agent_connections(app: web.Application) -> AsyncIterator[None]:
    agents = AgentConnections(app[CONFIG].current, requester_id=f"portico-proxy/{_replica_name()}")
    app[AGENTS] = agents
    try:
        await agents.start()  # the link listener for dial_out offices, when link.listen is set
    except BaseException:
        await agents.close()
        raise
    yield
    await agents.close()


def _replica_name() -> str:
    """This replica process, as agents see it in HELLO: the host name and the process id, so
    that two replicas on one machine are told apart (a dial-out agent behind a load balancer
    keeps one link per replica, by this name)."""
    return f"{socket.gethostname()[:64] or 'proxy'}:{os.getpid()}"


def create_app(config: ProxyConfig, *, agents: AgentConnections | None = None) -> web.Application:
    """The portal for every tenant in `config`. With `agents` given, the caller owns (starts
    and closes) them; otherwise the app opens its own and closes them on shutdown."""
    app = web.Application(middlewares=PORTAL_MIDDLEWARES, client_max_size=MAX_BODY)
    app[CONFIG] = RunningConfig(config)
    app[SECRET] = config.secret()
    app[SCHEME] = "http" if config.plain_http and not config.behind_tls_proxy else "https"
    app[TRUSTED_PROXIES] = parse_networks(config.trusted_proxies)
    app[RATE_LIMITS] = rate_limiters(config)
    app[BODY_SECONDS] = REQUEST_BODY_SECONDS
    if agents is not None:
        app[AGENTS] = agents
    else:
        app.cleanup_ctx.append(_agent_connections)

    environment = aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["local_when"] = local_when
    app.on_response_prepare.append(add_security_headers)
    app.router.add_routes(ROUTES)
    app.router.add_static("/static/", STATIC, name="static", append_version=False)
    setup_metrics(app)
    return app


def config_reloader(app: web.Application, path: Path) -> ProxyReloader:
    """What SIGHUP calls: re-reads `path` and puts it into `app` (see proxy/reload.py)."""
    return ProxyReloader(
        app[CONFIG],
        path,
        lambda new: apply_live_settings(
            new, running=app[CONFIG].current, agents=app.get(AGENTS), rate_limits=app[RATE_LIMITS]
        ),
    )
