"""Reloading proxy.yaml into a running replica (SIGHUP, `systemctl reload portico-proxy`).

As on the agent (agent/reload.py): the whole file is re-read and validated; an invalid one is
logged with its problems and changes nothing; a valid one puts :data:`LIVE_SETTINGS` into effect
at once and names every other changed setting in ``proxy.reload_needs_restart``.

Live: the log level, the rate limits and the whole tenant registry — an office added, removed,
moved to another host or port, re-pinned, renamed. Offices whose entry did not change keep
their links (proxy/agents.py, AgentConnections.apply_registry says what happens to the others).

Restart only, each for a reason:

- ``listen``, ``tls``, ``behind_tls_proxy``: the listening socket, its certificate and the
  scheme the forms' Origin check expects are set up once, at start.
- ``link``: every office's link presents this key; a new one means dialling every office
  again, which restarting replicas one at a time does without patients noticing.
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

from protocol.service.reload import ConfigChanges, plan_changes, read_for_reload
from proxy.config import ProxyConfig, load_proxy_config

log = structlog.get_logger("portico.proxy.reload")

# What proxy/app.py's apply function puts into effect on a running replica.
LIVE_SETTINGS = ("logging", "rate_limit", "tenants")


def plan_reload(running: ProxyConfig, new: ProxyConfig) -> ConfigChanges:
    return plan_changes(running, new, LIVE_SETTINGS)


def effective_config(running: ProxyConfig, new: ProxyConfig) -> ProxyConfig:
    """`running` with the live sections taken from `new`: what the replica runs after it."""
    return running.model_copy(update={section: getattr(new, section) for section in LIVE_SETTINGS})


class RunningConfig:
    """The configuration a running replica serves by, shared by its app and its reloader.

    aiohttp freezes an application's state once it starts, so the app keeps this one object
    for good and a reload replaces what :attr:`current` names. A ProxyConfig is immutable:
    code that reads ``current`` once and keeps the value sees one consistent configuration,
    even if a reload lands in the meantime."""

    __slots__ = ("current",)

    def __init__(self, config: ProxyConfig) -> None:
        self.current = config


class ProxyReloader:
    """Re-reads one proxy.yaml on request, hands the live part to `apply`, then makes it
    ``running.current``."""

    def __init__(
        self, running: RunningConfig, path: Path, apply: Callable[[ProxyConfig], None]
    ) -> None:
        """``apply`` puts a new config's live settings into effect (proxy/app.py). It runs
        while ``running.current`` is still the old config, and a ValueError or OSError from it
        must mean that it changed nothing: the reload is then refused like a bad file."""
        self.running = running
        self.path = path
        self._apply = apply

    def reload(self) -> ConfigChanges | None:
        """Apply what can be applied; None (and nothing changed) for a bad or unreadable file."""
        new = read_for_reload(self.path, load_proxy_config, log, "proxy.reload_rejected")
        if new is None:
            return None
        changes = plan_reload(self.running.current, new)
        effective = effective_config(self.running.current, new)
        try:
            self._apply(effective)
        except (OSError, ValueError) as exc:
            log.error(
                "proxy.reload_rejected",
                config=str(self.path),
                reason=f"cannot put it into effect ({type(exc).__name__}: {exc}); "
                "the running configuration is unchanged",
            )
            return None
        self.running.current = effective
        if changes.needs_restart:
            log.warning(
                "proxy.reload_needs_restart",
                settings=list(changes.needs_restart),
                reason="these settings take effect only after a restart",
            )
        log.info(
            "proxy.reloaded",
            config=str(self.path),
            applied=list(changes.live),
            needs_restart=len(changes.needs_restart),
        )
        return changes
