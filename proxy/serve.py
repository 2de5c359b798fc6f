"""Running the portal as a process: `run_proxy(config)`.

Listening (HTTPS unless TLS ends in front), the signals (SIGTERM/SIGINT stop, SIGHUP reloads
the config), the service manager's notifications and watchdog (sd_notify), and a clean
shutdown. The app itself is proxy/app.py's; the HTTP server in front of it proxy/http_server.py's.
"""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path

import structlog
from aiohttp import web

from protocol.service.notify import ServiceNotifier, ServiceSignals
from proxy.app import config_reloader, create_app
from proxy.config import ProxyConfig
from proxy.http_server import portal_runner

log = structlog.get_logger("portico.proxy")


class StartupError(Exception):
    """The proxy cannot start: a file it needs is missing or unusable, or the port is taken."""


def web_tls_context(config: ProxyConfig) -> ssl.SSLContext | None:
    """The HTTPS context patients' browsers meet, or None for plain HTTP (the localhost demo,
    or a load balancer in front that terminates TLS)."""
    if config.tls is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(config.tls.cert_file, config.tls.key_file)
    return context


async def run_proxy(
    config: ProxyConfig, *, stop: asyncio.Event | None = None, config_path: Path | None = None
) -> None:
    """Serve until SIGTERM or SIGINT (or `stop` is set), then close cleanly: stop accepting,
    let requests in flight finish, close the links to the agents (GOAWAY first).

    SIGHUP re-reads `config_path` (proxy/reload.py). The service manager is told READY once
    the site listens, RELOADING/READY around a reload and STOPPING on the way out, and its
    watchdog is fed meanwhile (protocol/service/notify.py)."""
    try:
        config.secret()
        tls = web_tls_context(config)
    except (OSError, ValueError, ssl.SSLError) as exc:
        raise StartupError(str(exc)) from None
    runner = portal_runner(create_app(config))
    notifier = ServiceNotifier.from_environment()
    signals = ServiceSignals(stop)
    watchdog = asyncio.create_task(notifier.keep_watchdog_fed())
    try:
        try:
            await runner.setup()  # opens the agent connections (and checks the link key)
            site = web.TCPSite(runner, config.listen.host, config.listen.port, ssl_context=tls)
            await site.start()
        except (OSError, ValueError) as exc:
            raise StartupError(str(exc)) from None
        log.info(
            "proxy.listening",
            host=config.listen.host,
            port=config.listen.port,
            https=tls is not None,
            tenants=len(config.tenants),
        )
        notifier.ready(status="serving")
        await _serve_reloads(signals, notifier, config_path, runner.app)
        notifier.stopping(status="stopping: finishing requests in flight")
        log.info("proxy.stopping")
    finally:
        watchdog.cancel()
        signals.remove()
        await runner.cleanup()
    log.info("proxy.stopped")


async def _serve_reloads(
    signals: ServiceSignals,
    notifier: ServiceNotifier,
    config_path: Path | None,
    app: web.Application,
) -> None:
    """Handle SIGHUPs until a stop is asked for."""
    reloader = None if config_path is None else config_reloader(app, config_path)
    while await signals.next_reload():
        notifier.reloading(status="reloading the configuration")
        if reloader is None:
            log.warning("proxy.reload_unavailable", reason="started without a config file")
        else:
            reloader.reload()
        notifier.ready(status="serving")
