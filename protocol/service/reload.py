"""What a reload changes: the dotted names of the settings that differ between two validated
configs, split into those the running program applies at once and those that wait for a restart.

Shared by agent/reload.py and proxy/reload.py (the two packages may not import each other).
Only setting *names* leave this module, never values: some of them are secrets.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

from protocol.service.config_report import ConfigInvalid

Config = TypeVar("Config", bound=BaseModel)

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


def plan_changes(old: BaseModel, new: BaseModel, live_settings: Iterable[str]) -> ConfigChanges:
    """The changed settings, split by `live_settings` (a setting is live when it is one of them
    or lies inside one, e.g. ``booking.horizon_days`` inside ``booking``)."""
    live = tuple(live_settings)

    def is_live(setting: str) -> bool:
        return any(setting == name or setting.startswith(f"{name}.") for name in live)

    changed = changed_settings(old, new)
    return ConfigChanges(
        live=tuple(s for s in changed if is_live(s)),
        needs_restart=tuple(s for s in changed if not is_live(s)),
    )


def read_for_reload(
    path: Path, load: Callable[[Path], Config], log: Any, rejected_event: str
) -> Config | None:
    """The new config at `path`, or None after logging `rejected_event` with the reason (the
    file cannot be read, or each problem with its path and line, never a secret's value): the
    running config then stays exactly as it is."""
    try:
        return load(path)
    except OSError as exc:
        log.error(
            rejected_event,
            config=str(path),
            reason=f"cannot read the file: {exc.strerror or type(exc).__name__}",
        )
    except ConfigInvalid as invalid:
        log.error(
            rejected_event,
            config=str(path),
            reason="the file is not valid; the running configuration is unchanged",
            problems=[str(problem) for problem in invalid.problems],
        )
    return None
