"""Issue 11, the link: "GOAWAY: docs §6 and §9 contradict each other about REQUEST continuation
frames after GOAWAY, and the agent follows neither (its `last_stream_id` promises an answer it
never sends)."

The rule (docs/protocol.md §9, as in HTTP/2): after a GOAWAY naming `last_stream_id` N, every
stream up to N is still processed and answered, including the rest of a REQUEST split across
MORE frames; a new stream above N is refused with `shutdown`. The sans-IO table lets the
requester finish sending such a REQUEST; LinkServer stays open until it has answered it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from protocol.aio import Request
from protocol.errors import LocalProtocolError
from protocol.events import GoAwayReceived, RequestReceived, ResponseReceived
from protocol.frames import FLAG_MORE, FrameType, encode_frame, encode_message
from protocol.state import TRANSITIONS, ConnectionState, Direction, Role
from tests.protocol.link_fixtures import HOST, LinkHarness
from tests.protocol.pair import frames_of, opened_pair, request_body
from tests.protocol.raw_link import RawLink, body


@pytest.fixture
async def link(tmp_path: Path) -> AsyncIterator[LinkHarness]:
    async with LinkHarness(tmp_path) as harness:
        yield harness


def split_request(stream_id: int, method: str = "echo") -> list[bytes]:
    payload = json.dumps(request_body(method=method, params={"pad": "p" * 150_000})).encode()
    frames = encode_message(FrameType.REQUEST, stream_id, payload, 64 * 1024)
    assert len(frames) >= 3
    return frames


def test_the_table_lets_the_requester_finish_a_split_request_after_goaway() -> None:
    assert (
        TRANSITIONS.get(
            (Role.REQUESTER, ConnectionState.CLOSING, Direction.SEND, FrameType.REQUEST)
        )
        is ConnectionState.CLOSING
    )
    pair = opened_pair()
    stream = pair.requester.send_request("echo", {"pad": "p" * 150_000})
    first = pair.requester.data_to_send(1)  # only the first frame has crossed
    assert pair.responder.receive_data(first) == []

    pair.responder.send_goaway("shutdown", "restarting")
    assert pair.to_requester() == [GoAwayReceived("shutdown", stream, "restarting")]
    with pytest.raises(LocalProtocolError):  # no new stream...
        pair.requester.send_request("m", {})
    rest = pair.requester.data_to_send()  # ...but the rest of this one goes out
    assert {(f.type, f.stream_id) for f in frames_of(rest)} == {(FrameType.REQUEST, stream)}

    [request] = pair.responder.receive_data(rest)
    assert isinstance(request, RequestReceived) and request.stream_id == stream
    assert pair.responder.send_response(stream, "answered") is True
    assert pair.to_requester() == [ResponseReceived(stream, "answered")]


async def test_link_server_close_answers_a_request_still_arriving(link: LinkHarness) -> None:
    served: list[str] = []

    async def handler(request: Request) -> Any:
        served.append(request.method)
        return {"pad_length": len(request.params["pad"])}

    server = await link.start_server(handler)
    raw = await RawLink.open(HOST, server.port, link.client_tls())
    try:
        assert (await raw.hello("demo")).type is FrameType.WELCOME
        first, *rest = split_request(1)
        raw.send(first + encode_frame(FrameType.PING, 0, 0, b"12345678"))
        assert (await raw.next_frame()).type is FrameType.PONG  # the first frame is in

        closing = asyncio.create_task(server.close(grace=5))
        goaway = await raw.next_frame()
        assert goaway.type is FrameType.GOAWAY
        assert body(goaway)["last_stream_id"] == 1
        # A new stream after the GOAWAY is refused (its rest discarded); then stream 1 ends.
        raw.send(b"".join(split_request(3)))
        raw.send(b"".join(rest))

        answers = {f.stream_id: f for f in await raw.until_closed()}
        await asyncio.wait_for(closing, 5)
    finally:
        raw.close()

    assert answers[1].type is FrameType.RESPONSE and not answers[1].flags & FLAG_MORE
    assert body(answers[1]) == {"result": {"pad_length": 150_000}}
    assert answers[3].type is FrameType.ERROR and body(answers[3])["code"] == "shutdown"
    assert served == ["echo"]
