"""Large answers are split and reassembled intact next to small ones; an answer above the 8 MiB
message limit becomes `internal` instead of breaking the link (docs/protocol.md §5)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import random
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from protocol.aio import RemoteError, Request
from protocol.frames import DEFAULT_LIMITS
from tests.protocol.link_fixtures import PATIENCE, LinkHarness

MiB = 1024 * 1024


@pytest.fixture
async def link(tmp_path: Path) -> AsyncIterator[LinkHarness]:
    async with LinkHarness(tmp_path) as harness:
        yield harness


def blob(size: int, seed: int) -> str:
    """`size` characters that differ all the way through, so a lost or repeated frame shows."""
    raw = random.Random(seed).randbytes(size * 3 // 4 + 3)
    return base64.b64encode(raw).decode("ascii")[:size]


async def sized(request: Request) -> Any:
    size = request.params["size"]
    text = blob(size, seed=size)
    return {"size": size, "sha256": hashlib.sha256(text.encode()).hexdigest(), "text": text}


def check(answer: Any, size: int) -> None:
    assert answer["size"] == size
    assert len(answer["text"]) == size
    assert answer["text"] == blob(size, seed=size)
    assert hashlib.sha256(answer["text"].encode()).hexdigest() == answer["sha256"]


async def test_six_mib_and_tiny_answers_requested_together_both_arrive_intact(
    link: LinkHarness,
) -> None:
    server = await link.start_server(sized)
    client = await link.connect(server)

    big, tiny = await asyncio.wait_for(
        asyncio.gather(
            client.request("sized", {"size": 6 * MiB}),
            client.request("sized", {"size": 10}),
        ),
        PATIENCE,
    )

    check(big, 6 * MiB)
    check(tiny, 10)
    assert client.is_usable


async def test_answer_over_the_message_limit_is_internal_and_the_link_survives(
    link: LinkHarness,
) -> None:
    server = await link.start_server(sized)
    client = await link.connect(server)
    too_big = DEFAULT_LIMITS.max_message + 1

    with pytest.raises(RemoteError) as failed:
        await asyncio.wait_for(client.request("sized", {"size": too_big}), PATIENCE)

    assert failed.value.code == "internal"
    assert "bytes" not in failed.value.message  # the patient sees no internals
    unsendable = await link.logs.wait_for("link.unsendable_result", role="responder")
    assert unsendable["code"] == "frame_too_large"
    assert client.is_usable
    check(await client.request("sized", {"size": 100}), 100)
    check(await asyncio.wait_for(client.request("sized", {"size": 2 * MiB}), PATIENCE), 2 * MiB)
