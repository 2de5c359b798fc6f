"""A real agent with chosen access rules, mailing through a real SMTP server (aiosmtpd).

Shared by tests/agent/access/ and the other agent areas. The agent is the one `portico-agent
run` starts (Agent.build), driven over a real link with a FixedClock; its mail goes through the
outbox and aiosmtplib to an aiosmtpd server on loopback, and the tests read links out of what
that server actually received.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from agent.access.staff import StaffActions
from agent.clock import FixedClock
from agent.config import AgentConfig
from agent.daemon import Agent
from agent.db.pool import DatabaseSettings
from protocol.aio import LinkClient, RemoteError
from tests.support.database import execute, query
from tests.support.practice import NOW, SmallPractice, cheap_hasher, link_to_agent
from tests.support.smtp import Received, RecordingHandler, mail_relay

PORTAL_URL = "http://example-clinic.localhost:8080"
FROM_ADDRESS = "portal@example.org"
CLIENT_IP = "203.0.113.7"
# What seed_small_practice puts on file for every patient.
DOB = "1970-01-01"
ZIP = "10001"
# Long, not on the common list, and nothing to do with any patient's name or email.
PASSWORD = "quartz-meadow-lantern-1187"
OTHER_PASSWORD = "velvet-harbour-compass-5520"


def email_of(patient: int) -> str:
    return f"pat{patient}@example.org"


def config_dict(
    settings: DatabaseSettings | SmallPractice,
    keys: Path,
    smtp_port: int,
    *,
    access: dict[str, Any] | None = None,
    booking: dict[str, Any] | None = None,
    messages: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """tests/support/practice.py's agent config, plus `access`, `messages` and SMTP `email`."""
    small = settings if isinstance(settings, SmallPractice) else SmallPractice(settings)
    data = small.config_data(keys, **(booking or {}))
    data["access"] = dict(access or {})
    data["messages"] = dict(messages or {})
    data["email"] = {
        "mode": "smtp",
        "from_address": FROM_ADDRESS,
        "smtp": {"host": "127.0.0.1", "port": smtp_port, "starttls": False},
    }
    data["portal"] = {"url": PORTAL_URL}
    return data


def access_config(
    settings: DatabaseSettings | SmallPractice, keys: Path, smtp_port: int, **sections: Any
) -> AgentConfig:
    return AgentConfig.model_validate(config_dict(settings, keys, smtp_port, **sections))


def text_of(message: Received) -> str:
    return message.part("text/plain")


def link_token(message: Received, path: str) -> str:
    """The one-time token of the `{portal}{path}?token=...` link in the plain-text part."""
    urls = re.findall(r"https?://\S+", text_of(message))
    links = [url for url in urls if urlsplit(url).path == path]
    assert len(links) == 1, f"expected one {path} link, found {urls}"
    parts = urlsplit(links[0])
    assert f"{parts.scheme}://{parts.netloc}" == PORTAL_URL
    (token,) = parse_qs(parts.query, strict_parsing=True)["token"]
    return token


async def outbox_drained(agent: Agent, settings: DatabaseSettings, timeout: float = 10) -> None:
    """Deliver every due mail now (the agent's own worker may be delivering some as well)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        await agent.outbox.run_once()
        pending = query(
            settings, "SELECT COUNT(*) AS n FROM portal_outbox WHERE sent_at IS NULL AND dead = 0"
        )[0]["n"]
        if pending == 0:
            return
        assert asyncio.get_running_loop().time() < deadline, f"{pending} mail(s) never went out"
        await asyncio.sleep(0.05)


@dataclass
class AccessPractice:
    """The running agent, its link client, clock, staff actions and SMTP server."""

    agent: Agent
    client: LinkClient
    clock: FixedClock
    settings: DatabaseSettings
    relay: RecordingHandler
    staff: StaffActions
    small: SmallPractice | None = None  # the practice served, when the test gave one
    _seen: int = field(default=0)

    @property
    def ids(self) -> SmallPractice:
        """The practice served: its ids (`ids.patient(n)`) and data."""
        return self.small or SmallPractice(self.settings)

    def email_of(self, patient: int) -> str:
        """The email on file for the patient with this id, in this practice."""
        return self.ids.email_of(patient)

    async def call(self, method: str, session: str | None = None, **params: Any) -> Any:
        return await self.client.request(
            method, params, session=session, deadline=30, client={"ip": CLIENT_IP}
        )

    async def call_raw(
        self, method: str, params: Any, session: str | None = None, key: str | None = None
    ) -> Any:
        """Like call, with params as given (wrong types included) and an idempotency key."""
        return await self.client.request(
            method,
            params,
            session=session,
            idempotency_key=key,
            deadline=30,
            client={"ip": CLIENT_IP},
        )

    async def refused(self, method: str, session: str | None = None, **params: Any) -> RemoteError:
        """The error answer of a call that must fail."""
        try:
            result = await self.call(method, session, **params)
        except RemoteError as error:
            return error
        raise AssertionError(f"{method} succeeded: {result!r}")

    async def refused_raw(
        self, method: str, params: Any, session: str | None = None, key: str | None = None
    ) -> RemoteError:
        try:
            result = await self.call_raw(method, params, session, key)
        except RemoteError as error:
            return error
        raise AssertionError(f"{method} succeeded: {result!r}")

    async def deliver(self) -> list[Received]:
        """Send all due mail; the messages the SMTP server received since the last deliver()."""
        await outbox_drained(self.agent, self.settings)
        received = self.relay.received
        new, self._seen = received[self._seen :], len(received)
        return new

    async def one_mail(self, to: str) -> Received:
        """Deliver; exactly one new message, and it is addressed to `to`."""
        messages = await self.deliver()
        assert [m.rcpt_tos for m in messages] == [[to]], [m.rcpt_tos for m in messages]
        return messages[0]

    def advance(self, **delta: float) -> datetime:
        self.clock.set(self.clock.now() + timedelta(**delta))
        return self.clock.now()

    def query(self, sql: str, args: Any = ()) -> list[dict[str, Any]]:
        return query(self.settings, sql, args)

    def execute(self, sql: str, args: Any = ()) -> int:
        return execute(self.settings, sql, args)

    async def set_password(self, patient: int, password: str, *, enabled: bool = True) -> None:
        """An active account with this password, made directly (not under test here)."""
        hashed = await self.agent.access.hasher.hash(password)
        rows = self.query("SELECT id FROM portal_accounts WHERE patient_id = %s", (patient,))
        if rows:
            self.execute(
                "UPDATE portal_accounts SET password_hash = %s, status = 'active',"
                " access_enabled = %s WHERE patient_id = %s",
                (hashed, int(enabled), patient),
            )
        else:
            self.execute(
                "INSERT INTO portal_accounts (patient_id, email, login_email, password_hash,"
                " status, access_enabled, created_at) VALUES (%s, %s, %s, %s, 'active', %s, %s)",
                (
                    patient,
                    self.email_of(patient),
                    self.email_of(patient),
                    hashed,
                    int(enabled),
                    self.clock.now().replace(tzinfo=None),
                ),
            )

    async def sign_in(self, login: str, password: str = PASSWORD) -> str:
        answer = await self.call("access.sign_in", login=login, password=password)
        assert set(answer) == {"session", "expires_at"}
        session: str = answer["session"]
        return session

    async def signed_in_patient(self, patient: int, password: str = PASSWORD) -> str:
        await self.set_password(patient, password)
        return await self.sign_in(self.email_of(patient), password)

    async def invite_and_activate(self, patient: int, password: str = PASSWORD) -> None:
        """Staff invite, then activation from the link in the email received."""
        await self.staff.invite(patient)
        token = link_token(await self.one_mail(self.email_of(patient)), "/activate")
        await self.call(
            "access.activate", token=token, date_of_birth=DOB, zip=ZIP, password=password
        )


@asynccontextmanager
async def access_practice(
    settings: DatabaseSettings | SmallPractice,
    keys: Path,
    *,
    access: dict[str, Any] | None = None,
    booking: dict[str, Any] | None = None,
    messages: dict[str, Any] | None = None,
    production_hasher: bool = False,
    now: datetime = NOW,
) -> AsyncIterator[AccessPractice]:
    """An agent on `settings` (see conftest's practice_db), or serving a SmallPractice in its
    system (conftest's small_practice), mailing to its own SMTP server.

    production_hasher: argon2id with the DESIGN.md parameters (Agent.build's default) instead
    of the cheap test hasher."""
    small = settings if isinstance(settings, SmallPractice) else SmallPractice(settings)
    with mail_relay() as (handler, port):
        clock = FixedClock(now)
        config = access_config(small, keys, port, access=access, booking=booking, messages=messages)
        agent = Agent.build(
            config, clock=clock, hasher=None if production_hasher else cheap_hasher()
        )
        await agent.start(port=0)
        try:
            client = await link_to_agent(agent, keys)
            try:
                staff = StaffActions(agent.access, "staff:test", agent.booking.tz)
                yield AccessPractice(agent, client, clock, small.settings, handler, staff, small)
            finally:
                await client.close()
        finally:
            await agent.stop(grace=5)


def as_json(value: Any) -> str:
    return json.dumps(value, default=str, sort_keys=True)


def utc_naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)
