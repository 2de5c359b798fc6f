"""Reloading agent.yaml into the running agent (SIGHUP, `systemctl reload portico-agent`).

Office IT edits the file and reloads; patients connected through the proxy must not notice. So a
reload re-reads and validates the whole file and then either

- rejects it: the problems are logged (paths and lines, never values of secrets) and the running
  config stays exactly as it was; or
- accepts it: the settings that can change under a running link take effect at once, and every
  other changed setting is named in one ``agent.reload_needs_restart`` line, so nobody believes
  a new database password or listen port is in use when it is not.

The pure part (:func:`changed_settings`, :func:`plan_reload`, :func:`effective_config`) compares
two validated configs; :func:`reload_from_file` is the shell that reads the file, logs, and has
the agent apply the result (``Agent.apply_live_settings`` in agent/daemon.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog
from pydantic import BaseModel

from agent.config import AgentConfig, ConfigInvalid, config_warnings, load_config

if TYPE_CHECKING:
    from agent.daemon import Agent

log = structlog.get_logger("portico.agent.reload")

# Settings a running agent applies without dropping a link; Agent.apply_live_settings applies
# exactly these. Everything else (listen address and port, database, the agent's own key and
# certificate, the practice's identity, email, portal URL, ...) is read once at start.
LIVE_SETTINGS = ("booking", "access", "logging", "tls.proxy_pins", "listen.allowed_proxies")

_ABSENT = object()


@dataclass(frozen=True, slots=True)
class ConfigChanges:
    """What differs between the running config and a new, valid one (dotted setting names)."""

    live: tuple[str, ...]
    """Changed, and applied without a restart."""
    needs_restart: tuple[str, ...]
    """Changed, but only a restart puts them into effect."""


def _leaves(value: Any, prefix: str) -> dict[str, Any]:
    """A dumped config as {dotted path: value}, one entry per setting."""
    if isinstance(value, dict) and value:
        leaves: dict[str, Any] = {}
        for key, item in value.items():
            leaves.update(_leaves(item, f"{prefix}.{key}" if prefix else str(key)))
        return leaves
    return {prefix: value}


def changed_settings(old: BaseModel, new: BaseModel) -> list[str]:
    """The dotted names of every setting whose value differs, sorted. Secrets compare by value
    (pydantic's SecretStr does) but only their names ever leave this function."""
    before, after = _leaves(old.model_dump(), ""), _leaves(new.model_dump(), "")
    return sorted(
        path
        for path in before.keys() | after.keys()
        if before.get(path, _ABSENT) != after.get(path, _ABSENT)
    )


def is_live(setting: str) -> bool:
    return any(setting == live or setting.startswith(f"{live}.") for live in LIVE_SETTINGS)


def plan_reload(running: AgentConfig, new: AgentConfig) -> ConfigChanges:
    changed = changed_settings(running, new)
    return ConfigChanges(
        live=tuple(s for s in changed if is_live(s)),
        needs_restart=tuple(s for s in changed if not is_live(s)),
    )


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
    try:
        new = load_config(path)
    except OSError as exc:
        log.error(
            "agent.reload_rejected",
            config=str(path),
            reason=f"cannot read the file: {exc.strerror or type(exc).__name__}",
        )
        return None
    except ConfigInvalid as invalid:
        log.error(
            "agent.reload_rejected",
            config=str(path),
            reason="the file is not valid; the running configuration is unchanged",
            problems=[str(problem) for problem in invalid.problems],
        )
        return None
    changes = plan_reload(agent.config, new)
    agent.apply_live_settings(effective_config(agent.config, new))
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
