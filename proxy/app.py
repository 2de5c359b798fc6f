"""The patient portal as an aiohttp application: `create_app(config)`.

What the app holds (typed `web.AppKey`s, proxy/views/base.py), its middlewares in their order
(proxy/middlewares.py), its routes (proxy/views/__init__.py), templates and static files, and
the resources that open and close with it (the links to the agents, the metrics listener).
Running it as a process (listening, signals, the service manager) is proxy/serve.py.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web

from protocol.logconfig import set_log_level
from proxy.agents import AgentConnections
from proxy.config import ProxyConfig
from proxy.metrics import setup_metrics
from proxy.middlewares import BODY_SECONDS, MAX_BODY, PORTAL_MIDDLEWARES, REQUEST_BODY_SECONDS
from proxy.ratelimit import RateLimiter
from proxy.reload import ProxyReloader, RunningConfig
from proxy.security import add_security_headers, parse_networks
from proxy.views import ROUTES
from proxy.views.base import AGENTS, CONFIG, RATE_LIMITS, SCHEME, SECRET, TRUSTED_PROXIES
from proxy.views.times import local_when

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"


def _limiters(config: ProxyConfig) -> dict[str, RateLimiter]:
    # `burst` is the extra attempts allowed on top of the first, as in nginx's limit_req.
    limits = config.rate_limit
    return {
        "sign_in": RateLimiter(limits.sign_in_per_minute, 1 + limits.burst),
        "forgot": RateLimiter(limits.forgot_per_minute, 1 + limits.burst),
    }


async def _agent_connections(app: web.Application) -> AsyncIterator[None]:
    agents = AgentConnections(app[CONFIG].current, requester_id=f"portico-proxy/{_replica_name()}")
    app[AGENTS] = agents
    yield
    await agents.close()


def _replica_name() -> str:
    return socket.gethostname()[:64] or "proxy"


def create_app(config: ProxyConfig, *, agents: AgentConnections | None = None) -> web.Application:
    """The portal for every tenant in `config`. With `agents` given, the caller owns (and
    closes) them; otherwise the app opens its own and closes them on shutdown."""
    app = web.Application(middlewares=PORTAL_MIDDLEWARES, client_max_size=MAX_BODY)
    app[CONFIG] = RunningConfig(config)
    app[SECRET] = config.secret()
    app[SCHEME] = "http" if config.plain_http and not config.behind_tls_proxy else "https"
    app[TRUSTED_PROXIES] = parse_networks(config.trusted_proxies)
    app[RATE_LIMITS] = _limiters(config)
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


def _apply_live_settings(app: web.Application, config: ProxyConfig) -> None:
    """Put proxy/reload.py's LIVE_SETTINGS of `config` into effect in a running app, before the
    reloader makes it ``app[CONFIG].current``. The registry goes first: it is the one part that
    can refuse (ValueError), and then nothing has changed yet."""
    agents = app.get(AGENTS)
    if agents is not None:  # otherwise they open later, from app[CONFIG].current
        agents.apply_registry(config.tenants)
    if config.rate_limit != app[CONFIG].current.rate_limit:
        # Only when they changed: new limiters forget every client's recent attempts.
        app[RATE_LIMITS].update(_limiters(config))
    set_log_level(config.logging.level)


def config_reloader(app: web.Application, path: Path) -> ProxyReloader:
    """What SIGHUP calls: re-reads `path` and puts it into `app` (see proxy/reload.py)."""
    return ProxyReloader(app[CONFIG], path, lambda new: _apply_live_settings(app, new))
