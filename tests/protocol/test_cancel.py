"""CANCEL: the requester gives up on a stream; answers that cross it are dropped quietly."""

from __future__ import annotations

from protocol.events import CancelReceived, RequestReceived, ResponseReceived
from protocol.frames import FLAG_MORE, FrameType, Limits
from tests.protocol.pair import ConnectionPair, frames_of, opened_pair

BIG = "z" * 200_000  # four 64 KiB frames


def pair_with_request() -> tuple[ConnectionPair, int]:
    pair = opened_pair()
    stream_id = pair.requester.send_request("records.download", {"id": 9})
    [request] = pair.to_responder()
    assert isinstance(request, RequestReceived)
    return pair, stream_id


def test_the_responder_is_told_and_its_answer_is_refused_locally() -> None:
    pair, stream_id = pair_with_request()

    pair.requester.send_cancel(stream_id)
    assert pair.to_responder() == [CancelReceived(stream_id)]

    assert pair.responder.open_streams == 0
    assert pair.responder.send_response(stream_id, {"pdf": "..."}) is False
    assert pair.responder.send_error(stream_id, "internal", "late") is False
    assert pair.responder.data_to_send() == b""


def test_an_answer_crossing_the_cancel_is_dropped_by_the_requester() -> None:
    pair, stream_id = pair_with_request()
    pair.requester.send_cancel(stream_id)
    pair.responder.send_response(stream_id, {"pdf": "..."})  # before the CANCEL arrives

    assert pair.to_requester() == []
    assert pair.to_responder() == []  # already answered: nothing to report
    assert pair.requester.open_streams == 0
    assert pair.responder.open_streams == 0


def test_an_error_crossing_the_cancel_is_dropped_too() -> None:
    pair, stream_id = pair_with_request()
    pair.requester.send_cancel(stream_id)
    pair.responder.send_error(stream_id, "unavailable", "Database down.")

    assert pair.to_requester() == []


def test_a_split_answer_crossing_the_cancel_is_dropped_whole() -> None:
    pair, stream_id = pair_with_request()
    pair.requester.send_cancel(stream_id)
    pair.responder.send_response(stream_id, BIG)

    wire = pair.responder.data_to_send()
    assert len(frames_of(wire)) == 4
    assert pair.requester.receive_data(wire) == []

    later = pair.requester.send_request("m", {})
    pair.to_responder()
    pair.responder.send_response(later, "fine")
    assert pair.to_requester() == [ResponseReceived(later, "fine")]


def test_cancelling_in_the_middle_of_a_split_answer_drops_the_rest() -> None:
    pair, stream_id = pair_with_request()
    other = pair.requester.send_request("m", {})
    pair.to_responder()
    pair.responder.send_response(stream_id, BIG)

    assert pair.to_requester(max_bytes=1) == []  # the first frame is in
    pair.requester.send_cancel(stream_id)
    pair.responder.send_response(other, "small")
    events = []
    while pair.responder.has_pending_output:
        events += pair.to_requester(max_bytes=1)

    assert events == [ResponseReceived(other, "small")]
    assert pair.to_responder() == []
    assert pair.requester.open_streams == 0


def test_cancelling_an_unsent_split_request_sends_only_its_first_frame_and_cancel() -> None:
    """Given up before data_to_send(): the first frame (queued in call order, so stream ids
    open in order) and a CANCEL go out; the rest never does, and the responder sees nothing."""
    pair = opened_pair()
    stream_id = pair.requester.send_request("messages.send", {"body": BIG})

    pair.requester.send_cancel(stream_id)

    sent = pair.requester.data_to_send()
    assert [(f.type, f.stream_id, f.flags) for f in frames_of(sent)] == [
        (FrameType.REQUEST, stream_id, FLAG_MORE),
        (FrameType.CANCEL, stream_id, 0),
    ]
    assert pair.requester.open_streams == 0
    assert pair.responder.receive_data(sent) == []
    after = pair.requester.send_request("m", {})
    assert [e.stream_id for e in pair.to_responder()] == [after]


def test_cancelling_a_half_sent_split_request_stops_it_and_frees_the_slot() -> None:
    pair = opened_pair(responder_limits=Limits(max_frame=1024, max_message=1 << 20, max_streams=1))
    stream_id = pair.requester.send_request("messages.send", {"body": "b" * 5000})
    first = pair.requester.data_to_send(max_bytes=1)
    assert [(f.stream_id, f.flags) for f in frames_of(first)] == [(stream_id, FLAG_MORE)]
    assert pair.responder.receive_data(first) == []

    pair.requester.send_cancel(stream_id)
    rest = pair.requester.data_to_send()

    assert [(f.type, f.stream_id) for f in frames_of(rest)] == [(FrameType.CANCEL, stream_id)]
    assert pair.responder.receive_data(rest) == []  # it never saw the whole request
    # max_streams=1: the half-received request no longer occupies the only slot.
    again = pair.requester.send_request("m", {})
    assert [(type(e), e.stream_id) for e in pair.to_responder()] == [(RequestReceived, again)]


def test_cancelling_an_answered_request_does_nothing() -> None:
    pair, stream_id = pair_with_request()
    pair.responder.send_response(stream_id, 1)
    pair.to_requester()

    pair.requester.send_cancel(stream_id)

    assert pair.requester.data_to_send() == b""


def test_many_cancelled_split_answers_are_all_dropped() -> None:
    """A proxy whose callers all give up at once (say a slow agent and a deadline) cancels
    every request in flight. The agent had already answered them with large results; the
    requester must drop every one of them quietly. Today it gives up after max_streams of them
    with protocol_error ("too many unfinished messages on refused streams") and kills the link.
    """
    pair = opened_pair()
    ids = [pair.requester.send_request("records.download", {}) for _ in range(256)]
    for event in pair.to_responder():
        pair.responder.send_response(event.stream_id, "r" * 70_000)  # two frames each
    late = pair.requester.send_request("records.download", {})
    pair.to_responder()
    pair.responder.send_response(late, "r" * 70_000)
    for stream_id in [*ids, late]:
        pair.requester.send_cancel(stream_id)
    pair.to_responder()

    events = pair.to_requester()  # round-robin: 257 first frames before any last frame

    assert events == []
    assert pair.requester.open_streams == 0
