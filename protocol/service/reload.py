"""Reloading a config file into a running program (SIGHUP), the same way in the agent and the proxy.

Office IT edits the file and reloads; nobody using the portal may notice. So :class:`ConfigReloader`
re-reads and validates the whole file and then either

- rejects it: the file cannot be read or is not valid, or the program cannot put it into effect;
  ``<program>.reload_rejected`` says why (problems with paths and lines, never a secret's value)
  and the running config stays exactly as it was; or
- accepts it: the live settings (each program lists its own, next to the code that applies
  them) take effect at once, and every other changed setting is named in one
  ``<program>.reload_needs_restart`` line, so nobody believes a new database password or listen
  port is in use when it is not; then ``<program>.reloaded``.

The pure part (:func:`plan_changes`, :func:`effective_config`) compares two validated configs.
Only setting *names* leave this module, never values: some of them are secrets.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

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


def effective_config(running: Config, new: Config, live_settings: Iterable[str]) -> Config:
    """`running` with the live settings taken from `new`: the config the program actually runs
    after the reload. Keeping the rest as it was means the next reload names a setting that is
    still waiting for a restart again, instead of forgetting it. A live setting is a section
    (``booking``) or one setting inside one (``tls.proxy_pins``).

    A section that is absent (None) in either config is skipped: whether it is there at all
    is not a live setting (the agent's ``listen:`` exists only in listen mode, and changing
    the mode takes a restart), so the running one is kept as it is."""
    result = running
    for setting in live_settings:
        section, _, name = setting.partition(".")
        if getattr(result, section) is None or getattr(new, section) is None:
            continue
        if name:
            part = getattr(result, section).model_copy(
                update={name: getattr(getattr(new, section), name)}
            )
        else:
            part = getattr(new, section)
        result = result.model_copy(update={section: part})
    return result


class ConfigReloader(Generic[Config]):
    """Re-reads one config file on request and hands what can change at once to ``apply``."""

    def __init__(
        self,
        path: Path,
        *,
        program: str,
        load: Callable[[Path], Config],
        live_settings: Sequence[str],
        current: Callable[[], Config],
        apply: Callable[[Config], None],
        log: Any,
        applied: Callable[[Config, Config], None] | None = None,
        notes: Callable[[Config], Mapping[str, Any]] | None = None,
    ) -> None:
        """``current()`` is the running config. ``apply(config)`` puts the live settings of
        `config` into effect and makes it the running one; a ValueError or OSError from it must
        mean that it changed nothing: the reload is then refused like a bad file.
        ``applied(before, new)`` runs after a successful apply (the agent reports whom a new
        sign-in identity concerns); ``notes(new)`` adds fields to the ``reloaded`` line."""
        self.path = path
        self.program = program
        self.live_settings = tuple(live_settings)
        self._load = load
        self._current = current
        self._apply = apply
        self._log = log
        self._applied = applied
        self._notes = notes

    def reload(self) -> ConfigChanges | None:
        """Apply what can be applied; None (and nothing changed) when the file cannot be read,
        is not valid, or cannot be put into effect. Never raises for a bad file: the program
        keeps serving."""
        log, rejected = self._log, f"{self.program}.reload_rejected"
        new = read_for_reload(self.path, self._load, log, rejected)
        if new is None:
            return None
        running = self._current()
        changes = plan_changes(running, new, self.live_settings)
        try:
            self._apply(effective_config(running, new, self.live_settings))
        except (OSError, ValueError) as exc:
            log.error(
                rejected,
                config=str(self.path),
                reason=f"cannot put it into effect ({type(exc).__name__}: {exc}); "
                "the running configuration is unchanged",
            )
            return None
        if self._applied is not None:
            self._applied(running, new)
        if changes.needs_restart:
            log.warning(
                f"{self.program}.reload_needs_restart",
                settings=list(changes.needs_restart),
                reason="these settings take effect only after a restart",
            )
        log.info(
            f"{self.program}.reloaded",
            config=str(self.path),
            applied=list(changes.live),
            needs_restart=len(changes.needs_restart),
            **(self._notes(new) if self._notes is not None else {}),
        )
        return changes
