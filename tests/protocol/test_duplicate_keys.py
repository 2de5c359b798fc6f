"""Duplicate JSON keys: refused in what the agent receives, tolerated in what it answers.

Two parsers could disagree on which of two values counts, so a REQUEST with a duplicated key
ends the connection. Answers come from the pinned agent's own encoder, which cannot write
one; not checking them saves a large share of decoding a big answer.
"""

from __future__ import annotations

import pytest

from protocol.errors import RemoteProtocolError
from protocol.events import ResponseReceived
from protocol.frames import FrameType, encode_frame
from tests.protocol.pair import ConnectionPair


def _opened() -> ConnectionPair:
    pair = ConnectionPair()
    pair.handshake()
    return pair


def test_a_request_with_a_duplicated_key_is_a_protocol_error() -> None:
    pair = _opened()
    payload = b'{"method":"m","params":{"id":1,"id":2},"session":null}'
    with pytest.raises(RemoteProtocolError) as refused:
        pair.responder.receive_data(encode_frame(FrameType.REQUEST, 0, 1, payload))
    assert refused.value.code == "protocol_error"


def test_an_answer_with_a_duplicated_key_is_read_last_one_wins() -> None:
    pair = _opened()
    stream_id = pair.requester.send_request("m", {})
    pair.to_responder()
    events = pair.requester.receive_data(
        encode_frame(FrameType.RESPONSE, 0, stream_id, b'{"result":{"a":1,"a":2}}')
    )
    assert events == [ResponseReceived(stream_id, {"a": 2})]
