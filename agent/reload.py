"""Reloading agent.yaml into the running agent (SIGHUP, `systemctl reload portico-agent`).

The reload itself is the one both programs share (:class:`protocol.service.reload.ConfigReloader`:
an invalid file, or one the agent cannot put into effect, is logged as
``agent.reload_rejected`` and changes nothing). What is the agent's own is here: which file
loader, the warnings a reloaded file still deserves, and the note on whom a switch of
``access.identity`` concerns. Which settings are live, and how they are applied, sits in
agent/daemon.py next to ``Agent.apply_live_settings``, which hands both in: this module never
imports the daemon.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import structlog

from agent.access.logins import count_other_logins, identity_meaning
from agent.config import AgentConfig, config_warnings, load_config
from agent.db import Database
from agent.db.pool import DatabaseUnavailable
from protocol.service.reload import ConfigReloader

log = structlog.get_logger("portico.agent.reload")


def agent_reloader(
    path: Path,
    *,
    live_settings: Sequence[str],
    current: Callable[[], AgentConfig],
    apply: Callable[[AgentConfig], None],
    identity_changed: Callable[[str, str], None],
) -> ConfigReloader[AgentConfig]:
    """The reloader of the agent whose running config is ``current()``. ``apply`` puts the
    `live_settings` of a new config into effect (raising ValueError or OSError, having changed
    nothing, when it cannot); ``identity_changed(before, after)`` is told of a new
    ``access.identity`` once it is applied."""

    def applied(before: AgentConfig, new: AgentConfig) -> None:
        if new.access.identity != before.access.identity:
            identity_changed(before.access.identity, new.access.identity)

    return ConfigReloader(
        path,
        program="agent",
        load=load_config,
        live_settings=live_settings,
        current=current,
        apply=apply,
        log=log,
        applied=applied,
        notes=lambda new: {"warnings": [str(warning) for warning in config_warnings(new)]},
    )


async def report_identity_change(db: Database, before: str, after: str) -> None:
    """Say whom a switch of access.identity concerns. Run in the background after the reload
    (the count needs the database, a reload must not wait for it); existing accounts keep
    working."""
    try:
        others = await db.transaction(count_other_logins, after)
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
