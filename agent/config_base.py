"""What every section of agent.yaml builds on: the model base and the cross-field error.

Its own module so that the sections can live in more than one module (agent/config.py,
agent/config_link.py) without those importing each other.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from pydantic_core import PydanticCustomError


def conflict(field: str, message: str) -> PydanticCustomError:
    """A cross-field error blamed on ``field`` (config_report adds it to the path)."""
    return PydanticCustomError("conflict", message, {"field": field})


class Section(BaseModel):
    """One section of agent.yaml: unknown keys refused, values never echoed, frozen."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True, frozen=True)
