"""A caller that stops waiting stops the agent's work; handler failures reach the caller as codes,
never as internals (docs/protocol.md §6 CANCEL, §10)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from protocol.aio import LinkError, RemoteError, Request
from tests.protocol.link_fixtures import PATIENCE, LinkHarness, until


@pytest.fixture
async def link(tmp_path: Path) -> AsyncIterator[LinkHarness]:
    async with LinkHarness(tmp_path) as harness:
        yield harness


class Slow:
    """A handler that runs until cancelled, and says whether it was."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.started = asyncio.Event()
        self.cancelled = asyncio.Event()
        self.requests: list[Request] = []
        self.remaining: list[float] = []

    async def __call__(self, request: Request) -> Any:
        if request.method == "ping":
            return "pong"
        self.requests.append(request)
        if request.deadline is not None:
            self.remaining.append(request.deadline - asyncio.get_running_loop().time())
        self.started.set()
        try:
            await asyncio.sleep(self.seconds)
        except asyncio.CancelledError:
            self.cancelled.set()
            raise
        return "finished"


async def test_cancelling_the_caller_cancels_the_handler(link: LinkHarness) -> None:
    handler = Slow(30)
    server = await link.start_server(handler)
    client = await link.connect(server)

    call = asyncio.create_task(client.request("slow"))
    await asyncio.wait_for(handler.started.wait(), PATIENCE)
    call.cancel()

    with pytest.raises(asyncio.CancelledError):
        await call
    await asyncio.wait_for(handler.cancelled.wait(), PATIENCE)
    [connection] = server.connections
    await until(lambda: not connection.tasks)
    assert connection.conn.open_streams == 0
    assert await client.request("ping") == "pong"  # the link itself is unharmed


async def test_deadline_fails_the_call_and_cancels_the_handler(link: LinkHarness) -> None:
    handler = Slow(5)
    server = await link.start_server(handler)
    client = await link.connect(server)

    with pytest.raises(RemoteError) as late:
        await asyncio.wait_for(client.request("slow", deadline=0.2), PATIENCE)

    assert late.value.code == "deadline_exceeded"
    assert not late.value.retryable
    await asyncio.wait_for(handler.cancelled.wait(), PATIENCE)
    [remaining] = handler.remaining  # the handler saw the budget as a loop-time deadline
    assert 0 < remaining <= 0.2
    assert await client.request("ping") == "pong"


async def test_agent_enforces_the_deadline_itself(link: LinkHarness) -> None:
    # Send the budget without a client-side timer, as a requester with a slow clock would:
    # the answer must come from the agent (§10: it stops the method and answers).
    handler = Slow(30)
    server = await link.start_server(handler)
    client = await link.connect(server)
    connection = client._connection
    stream_id = connection.conn.send_request("slow", {}, deadline_ms=200)
    answer: asyncio.Future[Any] = connection.loop.create_future()
    connection.pending[stream_id] = answer
    connection.flush()

    with pytest.raises(RemoteError) as late:
        await asyncio.wait_for(answer, PATIENCE)

    assert late.value.code == "deadline_exceeded"
    assert handler.cancelled.is_set()


@pytest.mark.parametrize(
    ("error", "retryable"),
    [
        (LinkError("not_found", "We could not find that appointment."), False),
        (LinkError("rate_limited", "Too many attempts; please wait a minute."), True),
        (LinkError("slot_unavailable", "That time was just taken.", retryable=True), True),
    ],
)
async def test_link_error_in_handler_reaches_the_caller_unchanged(
    link: LinkHarness, error: LinkError, retryable: bool
) -> None:
    async def handler(request: Request) -> Any:
        raise error

    server = await link.start_server(handler)
    client = await link.connect(server)

    with pytest.raises(RemoteError) as failed:
        await client.request("book", {"slot": 7})

    assert failed.value.code == error.code
    assert failed.value.message == error.message
    assert failed.value.retryable is retryable
    assert client.is_usable


async def test_link_error_details_reach_the_caller(link: LinkHarness) -> None:
    async def handler(request: Request) -> Any:
        raise LinkError("invalid_params", "Please choose a date.", details={"field": "date"})

    server = await link.start_server(handler)
    client = await link.connect(server)

    with pytest.raises(RemoteError) as failed:
        await client.request("book")

    assert failed.value.details == {"field": "date"}


@pytest.mark.parametrize(
    "crash",
    [RuntimeError("secret detail"), KeyError("secret detail"), TimeoutError("secret detail")],
    ids=["RuntimeError", "KeyError", "TimeoutError"],
)
async def test_unexpected_handler_failure_is_internal_and_hides_its_detail(
    link: LinkHarness, crash: Exception
) -> None:
    async def handler(request: Request) -> Any:
        raise crash

    server = await link.start_server(handler)
    client = await link.connect(server)

    with pytest.raises(RemoteError) as failed:
        # A deadline that has not passed: a TimeoutError of the handler's own is not "deadline".
        await client.request("book", deadline=PATIENCE)

    assert failed.value.code == "internal"
    assert "secret detail" not in failed.value.message
    assert "secret detail" not in str(failed.value)
    assert not failed.value.retryable
    # The operator gets the method, the exception type and where it failed — not its
    # message, which in real handlers can quote patient data (a duplicate email, say).
    failure = await link.logs.wait_for("link.handler_failed", role="responder")
    assert failure["method"] == "book"
    assert failure["error_type"] == type(crash).__name__
    assert any("handler" in frame for frame in failure["frames"])
    assert "secret detail" not in link.logs.stream.getvalue()
    assert client.is_usable
