"""A requester written from docs/protocol.md alone: TLS, then frames a test builds by hand.

LinkClient sends what its Connection queues, when it likes; a test that must stop half-way
through a split REQUEST, or send a frame the reference requester never would, uses this.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from protocol.frames import MAX_STREAM_ID, Frame, FrameDecoder, FrameType, encode_frame
from protocol.tls import TLSConfig, TLSEngine

PATIENCE = 10.0


class RawLink:
    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, engine: TLSEngine
    ) -> None:
        self.reader = reader
        self.writer = writer
        self.engine = engine
        self.decoder = FrameDecoder(MAX_STREAM_ID)
        self.frames: list[Frame] = []

    @classmethod
    async def open(cls, host: str, port: int, tls: TLSConfig) -> RawLink:
        reader, writer = await asyncio.open_connection(host, port)
        link = cls(reader, writer, TLSEngine(tls))
        link.engine.start()
        async with asyncio.timeout(PATIENCE):
            while not link.engine.handshake_complete:
                writer.write(link.engine.ciphertext_to_send())
                data = await reader.read(65536)
                assert data, "closed during the TLS handshake"
                link.frames += link.decoder.feed(link.engine.receive_ciphertext(data))
        writer.write(link.engine.ciphertext_to_send())
        return link

    async def hello(self, tenant: str) -> Frame:
        """HELLO, and the WELCOME (or GOAWAY) it gets."""
        body = {"versions": [1], "tenant": tenant, "requester_id": "raw-test"}
        self.send(encode_frame(FrameType.HELLO, 0, 0, json.dumps(body).encode()))
        return await self.next_frame()

    def send(self, data: bytes) -> None:
        self.engine.send_plaintext(data)
        self.writer.write(self.engine.ciphertext_to_send())

    async def next_frame(self) -> Frame:
        async with asyncio.timeout(PATIENCE):
            while not self.frames:
                data = await self.reader.read(65536)
                assert data, "the peer closed the connection"
                self.frames += self.decoder.feed(self.engine.receive_ciphertext(data))
        return self.frames.pop(0)

    async def until_closed(self) -> list[Frame]:
        """Every frame still to come, until the peer closes the connection."""
        async with asyncio.timeout(PATIENCE):
            while data := await self.reader.read(65536):
                self.frames += self.decoder.feed(self.engine.receive_ciphertext(data))
                if self.engine.closed_by_peer:
                    break
        rest, self.frames = self.frames, []
        return rest

    def close(self) -> None:
        self.writer.close()


def body(frame: Frame) -> Any:
    return json.loads(frame.payload)
