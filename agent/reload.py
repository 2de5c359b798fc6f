"""Reloading agent.yaml into the running agent (SIGHUP, `systemctl reload portico-agent`).

Office IT edits the file and reloads; patients connected through the proxy must not notice. So a
reload re-reads and validates the whole file and then either

- rejects it: the problems are logged (paths and lines, never values of secrets) and the running
  config stays exactly as it was; or
- accepts it: the settings that can change under a running link take effect at once, and every
  other changed setting is named in one ``agent.reload_needs_restart`` line, so nobody believes
  a new database password or listen port is in use when it is not.

The pure part (:func:`plan_reload`, over protocol/service/reload.py, and
:func:`effective_config`) compares two validated configs; :func:`reload_from_file` is the shell
that reads the file, logs, and has the agent apply the result (``Agent.apply_live_settings``
in agent/daemon.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import structlog

from agent.access.logins import count_other_logins, identity_meaning
from agent.config import AgentConfig, config_warnings, load_config
from agent.db.pool import DatabaseUnavailable
from protocol.service.reload import ConfigChanges, plan_changes, read_for_reload

if TYPE_CHECKING:
    from agent.daemon import Agent

log = structlog.get_logger("portico.agent.reload")

# Settings a running agent applies without dropping a link; Agent.apply_live_settings applies
# exactly these. Everything else (listen address and port, database, the agent's own key and
# certificate, the practice's identity, email, portal URL, ...) is read once at start.
LIVE_SETTINGS = ("booking", "access", "logging", "tls.proxy_pins", "listen.allowed_proxies")


def plan_reload(running: AgentConfig, new: AgentConfig) -> ConfigChanges:
    return plan_changes(running, new, LIVE_SETTINGS)


def effective_config(running: AgentConfig, new: AgentConfig) -> AgentConfig:
    """`running` with the live settings taken from `new`: the config the agent actually runs
    after the reload. Keeping the rest as it was means the next reload names a setting that is
    still waiting for a restart again, instead of forgetting it."""
    result = running
    for setting in LIVE_SETTINGS:
        section, _, name = setting.partition(".")
        if name:
            part = getattr(result, section).model_copy(
                update={name: getattr(getattr(new, section), name)}
            )
        else:
            part = getattr(new, section)
        result = result.model_copy(update={section: part})
    return result


def reload_from_file(agent: Agent, path: Path) -> ConfigChanges | None:
    """Re-read `path` and apply what can be applied; None (and the old config kept) when the
    file cannot be read or is not valid. Never raises for a bad file: the daemon keeps serving."""
    new = read_for_reload(path, load_config, log, "agent.reload_rejected")
    if new is None:
        return None
    changes = plan_reload(agent.config, new)
    identity_before = agent.config.access.identity
    agent.apply_live_settings(effective_config(agent.config, new))
    if new.access.identity != identity_before:
        agent.in_background(_report_identity_change(agent, identity_before, new.access.identity))
    if changes.needs_restart:
        log.warning(
            "agent.reload_needs_restart",
            settings=list(changes.needs_restart),
            reason="these settings take effect only after a restart",
        )
    log.info(
        "agent.reloaded",
        config=str(path),
        applied=list(changes.live),
        needs_restart=len(changes.needs_restart),
        warnings=[str(warning) for warning in config_warnings(new)],
    )
    return changes


async def _report_identity_change(agent: Agent, before: str, after: str) -> None:
    """Say whom a switch of access.identity concerns. Counted after the reload (the count
    needs the database, a reload must not wait for it); existing accounts keep working."""
    try:
        others = await agent.db.transaction(count_other_logins, after)
    except DatabaseUnavailable:
        log.warning(
            "agent.identity_changed",
            before=before,
            after=after,
            accounts=None,
            meaning="could not count the accounts concerned: the database did not answer; "
            "existing accounts keep signing in as they did",
        )
        return
    log.warning(
        "agent.identity_changed",
        before=before,
        after=after,
        accounts=others,
        meaning=identity_meaning(after, others),
    )
