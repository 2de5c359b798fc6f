"""Issue 11, the link: "Document what a second implementer had to guess: the code for an unknown
method, ..."

docs/protocol.md §12: a method the agent does not know is answered `not_found`,
"unknown method", not retryable, before its `params` are looked at.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.db.pool import DatabaseSettings
from protocol.aio import RemoteError
from tests.support.practice import running_practice


@pytest.mark.parametrize("params", [{}, {"appointment_id": "not an id", "extra": 1}])
async def test_an_unknown_method_is_not_found_whatever_its_params(
    practice_db: DatabaseSettings, link_keys: Path, params: dict[str, object]
) -> None:
    async with running_practice(practice_db, link_keys) as practice:
        for patient in (None, 1):
            with pytest.raises(RemoteError) as answer:
                await practice.call("booking.teleport", patient=patient, **params)
            assert (answer.value.code, answer.value.message) == ("not_found", "unknown method")
            assert answer.value.retryable is False
