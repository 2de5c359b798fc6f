"""Structured JSON logging shared by the agent and the proxy.

Every line is one JSON object with a UTC ``ts``, the level and the logger name. Values whose key
looks like it could carry a secret or patient data are replaced before rendering, and tracebacks
never include local variables: a local can hold a password or a patient's record, and logs leave
the practice (the proxy is hosted).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping
from typing import Any, TextIO

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

__all__ = ["REDACTED", "configure_logging", "redact_sensitive_keys", "set_log_level"]

REDACTED = "[redacted]"

# A key is redacted when its lower-cased name contains any of these fragments. Deliberately
# broad ("name" catches first_name, username, ...): a false positive costs a log field, a false
# negative leaks PHI.
_SENSITIVE_FRAGMENTS = (
    "password",
    "passwd",
    "secret",
    "token",
    "session",
    "cookie",
    "authorization",
    "email",
    "dob",
    "birth",
    "phone",
    "zip",
    "name",
)

# structlog's own keys; "logger_name" would otherwise match "name".
_EXEMPT_KEYS = frozenset({"event", "logger", "level", "ts", "logger_name"})

_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
    "critical": logging.CRITICAL,
}


def _is_sensitive(key: object) -> bool:
    if not isinstance(key, str) or key in _EXEMPT_KEYS:
        return False
    lowered = key.lower()
    return any(fragment in lowered for fragment in _SENSITIVE_FRAGMENTS)


def _redact_value(value: Any) -> Any:
    """Redact sensitive keys inside nested mappings and sequences as well."""
    if isinstance(value, Mapping):
        return {k: REDACTED if _is_sensitive(k) else _redact_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact_value(item) for item in value]
    return value


def redact_sensitive_keys(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """structlog processor: replace the value of every sensitive-looking key with ``[redacted]``."""
    return {
        key: REDACTED if _is_sensitive(key) else _redact_value(value)
        for key, value in event_dict.items()
    }


class _PorticoHandler(logging.StreamHandler[TextIO]):
    """Marks the handler this module installs, so reconfiguring replaces it instead of adding."""


class _StderrHandler(_PorticoHandler):
    """Writes to whatever ``sys.stderr`` is at the time of each record, like logging.lastResort,
    so a later redirection (a daemon's, a test runner's) is followed instead of a stale stream."""

    def __init__(self) -> None:
        logging.Handler.__init__(self)

    @property
    def stream(self) -> TextIO:  # type: ignore[override]
        return sys.stderr


def _numeric_level(level: str) -> int:
    try:
        return _LEVELS[level.lower()]
    except KeyError:
        choices = ", ".join(_LEVELS)
        raise ValueError(f"unknown log level {level!r}; expected one of {choices}") from None


def set_log_level(level: str) -> None:
    """Change the level of a running process (a config reload), keeping where logs go."""
    logging.getLogger().setLevel(_numeric_level(level))


def configure_logging(level: str = "info", stream: TextIO | None = None) -> None:
    """Route structlog and stdlib logging to ``stream`` (default: stderr) as JSON lines.

    Idempotent: a second call replaces the handler installed by the first.
    """
    numeric_level = _numeric_level(level)

    # Applied to structlog events and to records from stdlib loggers (aiohttp, asyncio, ...).
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True, key="ts"),
    ]

    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            # Redact before the exception is rendered: frame dicts carry keys such as "name" and
            # "filename" that are not sensitive.
            redact_sensitive_keys,
            structlog.processors.StackInfoRenderer(),
            structlog.processors.ExceptionRenderer(
                structlog.tracebacks.ExceptionDictTransformer(show_locals=False)
            ),
            structlog.processors.JSONRenderer(),
        ],
    )

    handler = _PorticoHandler(stream) if stream is not None else _StderrHandler()
    handler.setFormatter(formatter)

    root = logging.getLogger()
    for existing in [h for h in root.handlers if isinstance(h, _PorticoHandler)]:
        root.removeHandler(existing)
        existing.close()
    root.addHandler(handler)
    root.setLevel(numeric_level)
    logging.captureWarnings(True)

    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        # Not cached: a logger obtained before configure_logging() must still follow it.
        cache_logger_on_first_use=False,
    )
