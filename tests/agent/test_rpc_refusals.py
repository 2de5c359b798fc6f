"""A domain refusal (agent.errors.Refused) leaves the dispatcher as the link's error answer
with the same code, message and details, retryable exactly when the code is."""

from __future__ import annotations

from typing import Any

import pytest

from agent.errors import Refused
from agent.rpc import AgentMethods, NoParams
from protocol.aio import LinkError, Request
from protocol.errors import ErrorCode


def _request(method: str) -> Request:
    return Request(
        stream_id=1,
        method=method,
        params={},
        session=None,
        idempotency_key=None,
        deadline=None,
        client=None,
        tenant="demo",
        peer_pin="",
    )


def _methods(refusal: Refused) -> AgentMethods:
    async def refuse(request: Request, params: NoParams) -> Any:
        raise refusal

    return AgentMethods(
        [{"test.refuse": (NoParams, refuse)}],
        phone="555-0100",
    )


@pytest.mark.parametrize(
    ("code", "retryable"),
    [(ErrorCode.NOT_FOUND, False), (ErrorCode.FORBIDDEN, False), (ErrorCode.BUSY, True)],
)
async def test_a_refusal_becomes_the_same_error_answer(code: ErrorCode, retryable: bool) -> None:
    methods = _methods(Refused(code, "That was not allowed."))
    with pytest.raises(LinkError) as answer:
        await methods(_request("test.refuse"))
    assert (answer.value.code, answer.value.message) == (code, "That was not allowed.")
    assert answer.value.retryable is retryable
    assert answer.value.details is None


async def test_details_travel_with_the_refusal() -> None:
    details = {"answers": {"pain": "please choose one"}}
    methods = _methods(
        Refused(ErrorCode.INVALID_PARAMS, "answers.pain: please choose one", details=details)
    )
    with pytest.raises(LinkError) as answer:
        await methods(_request("test.refuse"))
    assert answer.value.code == "invalid_params"
    assert answer.value.details == details
