"""The agent's view of the shared config reporting in :mod:`protocol.service.config_report`.

The generic parts (YAML line map, :class:`ConfigProblem`, pydantic error wording) live in the
protocol package so the proxy can use them too without importing the agent; this module adds
only what is particular to ``agent.yaml``: the hints for an empty or shapeless file.
"""

from __future__ import annotations

from protocol.service.config_report import (
    ConfigInvalid,
    ConfigProblem,
    YamlDocument,
    describe_validation,
    dotted,
    line_of,
    with_lines,
)
from protocol.service.config_report import read_yaml as _read_yaml

__all__ = [
    "EXAMPLE",
    "SECTIONS",
    "ConfigInvalid",
    "ConfigProblem",
    "YamlDocument",
    "describe_validation",
    "dotted",
    "line_of",
    "read_yaml",
    "with_lines",
]

EXAMPLE = "config/agent.example.yaml"
SECTIONS = "practice:, link:, tls:, ..."


def read_yaml(text: str) -> YamlDocument:
    """:func:`protocol.service.config_report.read_yaml` with the agent's hints."""
    return _read_yaml(text, example=EXAMPLE, sections=SECTIONS)
