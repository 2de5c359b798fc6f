"""Issue 11, the link: "GOAWAY: ... the agent follows neither (its `last_stream_id` promises an
answer it never sends)."

`portico-agent run` as systemd runs it gets SIGTERM while a REQUEST split across MORE frames
is half-way in. Its GOAWAY names that stream in `last_stream_id`, so (docs/protocol.md §9) it
takes the rest of the request, answers it, and only then closes and exits.
"""

from __future__ import annotations

import json
import signal
from pathlib import Path

from agent.db.pool import DatabaseSettings
from protocol.frames import FrameType, encode_frame, encode_message
from protocol.tls import client_config
from tests.protocol.raw_link import RawLink, body
from tests.support.daemons import TENANT, Daemon, agent_yaml
from tests.support.ports import free_port


async def test_sigterm_mid_split_request_still_answers_it(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    port = free_port()
    agent = Daemon.agent(agent_yaml(tmp_path, practice_db, link_keys, port), port)
    await agent.start()
    tls = client_config(
        link_keys / "proxy" / "key.pem",
        link_keys / "proxy" / "cert.pem",
        [(link_keys / "agent.pin").read_text()],
    )
    raw = await RawLink.open("127.0.0.1", port, tls)
    try:
        assert (await raw.hello(TENANT)).type is FrameType.WELCOME
        # Unknown keys are ignored (§4): the padding only makes the request span 4 frames.
        request = {"method": "practice.info", "params": {}, "pad": "p" * 200_000}
        first, *rest = encode_message(FrameType.REQUEST, 1, json.dumps(request).encode(), 65536)
        raw.send(first + encode_frame(FrameType.PING, 0, 0, b"in-order"))
        assert (await raw.next_frame()).type is FrameType.PONG  # the agent has the first frame

        assert agent.process is not None
        agent.process.send_signal(signal.SIGTERM)
        goaway = await raw.next_frame()
        assert (goaway.type, body(goaway)["code"]) == (FrameType.GOAWAY, "shutdown")
        assert body(goaway)["last_stream_id"] == 1
        raw.send(b"".join(rest))
        answers = await raw.until_closed()
    finally:
        raw.close()
        await agent.stop()

    assert [(f.type, f.stream_id) for f in answers] == [(FrameType.RESPONSE, 1)], agent.log_tail()
    assert body(answers[0])["result"]["name"] == "Example Family Clinic"
    assert await agent.exited() == 0
