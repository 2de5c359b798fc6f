"""Reloading proxy.yaml into a running replica (SIGHUP, `systemctl reload portico-proxy`).

As on the agent, the reload is :class:`protocol.service.reload.ConfigReloader`: the whole file is
re-read and validated; an invalid one, or one :func:`apply_live_settings` cannot put into effect,
is logged as ``proxy.reload_rejected`` and changes nothing; a valid one puts
:data:`LIVE_SETTINGS` into effect at once and names every other changed setting in
``proxy.reload_needs_restart``.

Live: the log level, the rate limits and the whole tenant registry — an office added, removed,
moved to another host or port, re-pinned, renamed. Offices whose entry did not change keep
their links (proxy/agents.py, AgentConnections.apply_registry says what happens to the others).

Restart only, each for a reason:

- ``listen``, ``tls``, ``behind_tls_proxy``: the listening socket, its certificate and the
  scheme the forms' Origin check expects are set up once, at start.
- ``link``: every office's link presents this key; a new one means dialling every office
  again, which restarting replicas one at a time does without patients noticing. The same goes
  for ``link.listen``, the socket dial_out offices' agents connect to (their pins, part of
  ``tenants``, are live).
- ``secret_file``: read once at start, and a reload compares the path, not the content. Taking
  a new secret live would also break every form open in a browser (its anti-forgery token is
  signed with the old one), and replicas reloaded seconds apart would refuse each other's forms;
  a new secret is a deliberate, all-replicas change, not a side effect of a reload.
- ``portal_domain``: every office's address, and the host its cookies and forms are bound to.
- ``trusted_proxies``, ``metrics``: parsed, and listened on, at start.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import structlog

from protocol.service.logs import set_log_level
from protocol.service.reload import ConfigReloader
from proxy.agents import AgentConnections
from proxy.config import ProxyConfig, load_proxy_config
from proxy.ratelimit import RateLimiter

log = structlog.get_logger("portico.proxy.reload")

# What apply_live_settings puts into effect on a running replica.
LIVE_SETTINGS = ("logging", "rate_limit", "tenants")


def rate_limiters(config: ProxyConfig) -> dict[str, RateLimiter]:
    """The form rate limiters ``config.rate_limit`` asks for, by form."""
    # `burst` is the extra attempts allowed on top of the first, as in nginx's limit_req.
    limits = config.rate_limit
    return {
        "sign_in": RateLimiter(limits.sign_in_per_minute, 1 + limits.burst),
        "forgot": RateLimiter(limits.forgot_per_minute, 1 + limits.burst),
    }


def apply_live_settings(
    config: ProxyConfig,
    *,
    running: ProxyConfig,
    agents: AgentConnections | None,
    rate_limits: dict[str, RateLimiter],
) -> None:
    """Put LIVE_SETTINGS of `config` into effect in a running replica whose config is
    `running`. The registry goes first: it is the one part that can refuse (ValueError), and
    then nothing has changed yet. ``agents`` is None before the links are opened (they open
    later, from the running config)."""
    if agents is not None:
        agents.apply_registry(config.tenants)
    if config.rate_limit != running.rate_limit:
        # Only when they changed: new limiters forget every client's recent attempts.
        rate_limits.update(rate_limiters(config))
    set_log_level(config.logging.level)


class RunningConfig:
    """The configuration a running replica serves by, shared by its app and its reloader.

    aiohttp freezes an application's state once it starts, so the app keeps this one object
    for good and a reload replaces what :attr:`current` names. A ProxyConfig is immutable:
    code that reads ``current`` once and keeps the value sees one consistent configuration,
    even if a reload lands in the meantime."""

    __slots__ = ("current",)

    def __init__(self, config: ProxyConfig) -> None:
        self.current = config


class ProxyReloader(ConfigReloader[ProxyConfig]):
    """Re-reads one proxy.yaml on request, hands the live part to `apply`, then makes it
    ``running.current``."""

    def __init__(
        self, running: RunningConfig, path: Path, apply: Callable[[ProxyConfig], None]
    ) -> None:
        """``apply`` puts a new config's live settings into effect (:func:`apply_live_settings`).
        It runs while ``running.current`` is still the old config, and a ValueError or OSError
        from it must mean that it changed nothing: the reload is then refused like a bad file."""

        def apply_then_run(config: ProxyConfig) -> None:
            apply(config)
            running.current = config

        super().__init__(
            path,
            program="proxy",
            load=load_proxy_config,
            live_settings=LIVE_SETTINGS,
            current=lambda: running.current,
            apply=apply_then_run,
            log=log,
        )
        self.running = running
