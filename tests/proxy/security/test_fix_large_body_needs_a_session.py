"""Security review of issue 11's new-message form:

> CSRF on the new /messages/new form; request-size limits on it.

The form is CSRF-protected and its body is bounded (4 MiB), but the CSRF check reads the whole
body first, and it ran before the session check: anyone, without an account, could make the
proxy take 4 MiB into memory per request and hold it for the body's 2-minute allowance. A
signed-in page's POST is now refused before its body is read when there is no live session.

No clock: the body is never sent. The proxy must answer without it (sign in again); before,
it waited for the body and the test ran out of patience.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from agent.db.pool import DatabaseSettings
from proxy.security import SESSION_COOKIE
from tests.protocol.link_fixtures import PATIENCE
from tests.proxy.portal import HOST, portal

FOUR_MIB = 4 * 1024 * 1024 - 1


@pytest.mark.parametrize("cookie", ["", f"Cookie: {SESSION_COOKIE}={'x' * 43}\r\n"])
async def test_a_large_body_without_a_live_session_is_not_read(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path, cookie: str
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        port = site.client.server.port
        assert port is not None
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            writer.write(
                (
                    f"POST /messages/new HTTP/1.1\r\nHost: {HOST}\r\nOrigin: http://{HOST}\r\n"
                    f"{cookie}Content-Type: multipart/form-data; boundary=b\r\n"
                    f"Content-Length: {FOUR_MIB}\r\n\r\n--b\r\n"
                ).encode()
            )
            await writer.drain()
            status = await asyncio.wait_for(reader.readline(), PATIENCE)
            headers = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), PATIENCE)
        finally:
            writer.close()
        assert status.startswith(b"HTTP/1.1 303 "), status
        assert b"Location: /sign-in" in headers, headers
