"""`portico-agent run` under a service manager: what it tells systemd through a real
NOTIFY_SOCKET (READY, WATCHDOG, RELOADING/READY, STOPPING, in that order), when it says READY,
and how SIGTERM ends it (requests in flight finish, exit 0).

The agent is the real console script in a subprocess, on a throwaway MariaDB database; the test
plays systemd's end of the notify socket (tests/support/systemd.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import signal
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pymysql

from agent.access import queries
from agent.db.pool import DatabaseSettings
from protocol.aio import LinkClient
from protocol.service.notify import ServiceNotifier
from protocol.tls import client_config
from tests.support.database import connect, query
from tests.support.logs import captured_logs
from tests.support.ports import accepts_tcp, free_port
from tests.support.practice import DR_ADAMS, FOLLOW_UP, agent_config_data, write_config_file
from tests.support.systemd import PATIENCE, NotifySocket, daemon
from tests.support.tcp_relay import TcpRelay

AGENT = str(Path(sys.executable).with_name("portico-agent"))


@dataclasses.dataclass(frozen=True)
class AgentFile:
    path: Path
    port: int  # where the agent listens for the link


def agent_yaml(path: Path, settings: DatabaseSettings, keys: Path) -> AgentFile:
    """An agent.yaml for the small practice, listening on a free loopback port."""
    data = agent_config_data(settings, keys)
    data["listen"]["port"] = port = free_port()
    data["database"]["read_timeout_seconds"] = 30  # a test may hold a row lock for a while
    data["email"] = {"mode": "folder", "outbox_dir": str(path.parent / "outbox")}
    data["metrics"] = {"enabled": False}
    write_config_file(path, data)
    return AgentFile(path, port)


def run_agent(config: AgentFile, notify: NotifySocket, **options: Any) -> Any:
    return daemon(AGENT, "run", "--config", str(config.path), notify=notify, **options)


# -- the order of the notifications ---------------------------------------------------------


async def test_ready_watchdog_reload_and_stopping_arrive_in_order(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path, notify: NotifySocket
) -> None:
    config = agent_yaml(tmp_path / "agent.yaml", practice_db, link_keys)
    async with run_agent(config, notify, watchdog_usec=400_000) as d:
        await notify.until("READY")
        await notify.until("WATCHDOG")  # pinged at half the 0.4 s interval, unasked

        before = time.monotonic_ns() // 1000
        d.send(signal.SIGHUP)
        reloading = await notify.until("RELOADING")
        after = time.monotonic_ns() // 1000
        await notify.until("READY")
        await notify.until("WATCHDOG")

        d.send(signal.SIGTERM)
        await notify.until("STOPPING")
        assert await d.exit_code() == 0

    # MONOTONIC_USEC is CLOCK_MONOTONIC, the clock systemd compares it with.
    assert before <= int(reloading["MONOTONIC_USEC"]) <= after
    states = [s for s in notify.states() if s != "WATCHDOG"]
    assert states == ["READY", "RELOADING", "READY", "STOPPING"]
    assert notify.senders == {d.process.pid}  # the main process itself: it never forked


async def test_an_abstract_notify_socket_works_the_same(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path, abstract_notify: NotifySocket
) -> None:
    config = agent_yaml(tmp_path / "agent.yaml", practice_db, link_keys)
    notify = abstract_notify
    async with run_agent(config, notify) as d:
        await notify.until("READY")
        d.send(signal.SIGHUP)
        await notify.until("RELOADING")
        await notify.until("READY")
        d.send(signal.SIGTERM)
        await notify.until("STOPPING")
        assert await d.exit_code() == 0
    assert notify.states() == ["READY", "RELOADING", "READY", "STOPPING"]


# -- when READY is sent ---------------------------------------------------------------------


async def test_ready_comes_once_the_link_port_listens(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path, notify: NotifySocket
) -> None:
    config = agent_yaml(tmp_path / "agent.yaml", practice_db, link_keys)
    async with run_agent(config, notify) as d:
        await notify.until("READY")
        assert await accepts_tcp(config.port)
        d.send(signal.SIGTERM)
        assert await d.exit_code() == 0


async def test_ready_waits_until_the_database_answers(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path, notify: NotifySocket
) -> None:
    relay = TcpRelay(practice_db.host, practice_db.port)
    await relay.start()
    await relay.cut()  # the database is "down" when the agent starts
    via_relay = dataclasses.replace(practice_db, host="127.0.0.1", port=relay.port)
    config = agent_yaml(tmp_path / "agent.yaml", via_relay, link_keys)
    try:
        async with run_agent(config, notify) as d:
            await d.wait_for_log("agent.waiting_for_database")
            await d.wait_for_log("agent.listening")
            assert "READY" not in notify.states()

            await relay.restore()
            await notify.until("READY")
            d.send(signal.SIGTERM)
            assert await d.exit_code() == 0
    finally:
        await relay.cut()


async def test_sigterm_while_waiting_for_the_database_exits_0(
    link_keys: Path, practice_db: DatabaseSettings, tmp_path: Path, notify: NotifySocket
) -> None:
    down = dataclasses.replace(practice_db, host="127.0.0.1", port=free_port())
    config = agent_yaml(tmp_path / "agent.yaml", down, link_keys)
    async with run_agent(config, notify) as d:
        await d.wait_for_log("agent.waiting_for_database")
        d.send(signal.SIGTERM)
        assert await d.exit_code() == 0
    assert notify.states() == ["STOPPING"]


# -- SIGHUP reads the file again ------------------------------------------------------------


async def test_sighup_rereads_the_file_given_with_config(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path, notify: NotifySocket
) -> None:
    path = tmp_path / "agent.yaml"
    config = agent_yaml(path, practice_db, link_keys)
    async with run_agent(config, notify) as d:
        await notify.until("READY")
        path.write_text(path.read_text().replace("min_notice_hours: 24", "min_notice_hours: 48"))
        d.send(signal.SIGHUP)
        await notify.until("RELOADING")
        await notify.until("READY")
        reloaded = await d.wait_for_log("agent.reloaded")
        d.send(signal.SIGTERM)
        assert await d.exit_code() == 0
    assert reloaded["applied"] == ["booking.min_notice_hours"]


# -- SIGTERM drains -------------------------------------------------------------------------


def signed_in(settings: DatabaseSettings, patient: int) -> str:
    """A session token for the patient, made the way sign-in makes one (real clock)."""
    now = datetime.now(UTC)
    connection = connect(settings, dict_rows=True)
    with connection, connection.cursor() as cursor:
        account = queries.create_account(
            cursor, patient_id=patient, email=f"pat{patient}@example.org",
            login_email=f"pat{patient}@example.org", username=None, status="active",
            access_enabled=True, now=now,
        )  # fmt: skip
        token, _ = queries.create_session(cursor, account, now, timedelta(hours=1), "127.0.0.1")
    return token


def lock_waits(settings: DatabaseSettings) -> int:
    """How many transactions wait for a row lock right now."""
    sql = "SELECT 1 FROM information_schema.INNODB_TRX WHERE trx_state = 'LOCK WAIT'"
    return len(query(settings, sql))


async def test_sigterm_lets_a_booking_in_flight_finish_then_exits_0(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path, notify: NotifySocket
) -> None:
    config = agent_yaml(tmp_path / "agent.yaml", practice_db, link_keys)
    session = signed_in(practice_db, 1)
    async with run_agent(config, notify) as d:
        await notify.until("READY")
        link = await LinkClient.connect(
            "127.0.0.1", config.port, tenant="example-clinic", requester_id="test-proxy",
            tls=client_config(
                link_keys / "proxy" / "key.pem", link_keys / "proxy" / "cert.pem",
                [(link_keys / "agent.pin").read_text()],
            ),
        )  # fmt: skip
        params = {"appointment_type_id": FOLLOW_UP, "provider_id": DR_ADAMS, "days": 14}
        days = (await link.request("booking.availability", params, session=session))["days"]
        start = next(day["slots"][0]["start"] for day in days if day["slots"])

        # Another transaction holds the patient's row: the booking waits inside the database.
        holder = pymysql.connect(
            host=practice_db.host, port=practice_db.port, user=practice_db.user,
            password=practice_db.password, database=practice_db.name, autocommit=False,
        )  # fmt: skip
        with holder.cursor() as cursor:
            cursor.execute("SELECT id FROM patients WHERE id = 1 FOR UPDATE")
        book = {"appointment_type_id": FOLLOW_UP, "provider_id": DR_ADAMS, "start": start}
        booking = asyncio.create_task(
            link.request("booking.book", book, session=session, deadline=PATIENCE)
        )
        async with asyncio.timeout(PATIENCE):
            while await asyncio.to_thread(lock_waits, practice_db) == 0:
                await asyncio.sleep(0.02)

        d.send(signal.SIGTERM)
        await notify.until("STOPPING")
        async with asyncio.timeout(PATIENCE):
            while link.is_usable:  # the agent said GOAWAY: no new requests on this link
                await asyncio.sleep(0.02)
        assert not booking.done()
        holder.rollback()
        holder.close()

        booked = await booking
        assert await d.exit_code() == 0
        with contextlib.suppress(Exception):
            await link.close()
    assert booked["start"] == start
    stored = query(practice_db, "SELECT id FROM appointments WHERE patient_id = 1")
    assert [row["id"] for row in stored] == [booked["id"]]


# -- the notifier on its own (protocol/service/notify.py) ------------------------------------------


def test_without_notify_socket_nothing_is_sent() -> None:
    notifier = ServiceNotifier.from_environment({"WATCHDOG_USEC": "1000000"})
    assert not notifier.enabled
    assert notifier.ready() is False
    assert notifier.watchdog_seconds is None


def test_a_vanished_socket_never_raises_and_is_logged_once(tmp_path: Path) -> None:
    notifier = ServiceNotifier(str(tmp_path / "gone.sock"))
    with captured_logs() as logs:
        assert notifier.ready() is False
        assert notifier.watchdog() is False
    assert len(logs.records("sdnotify.send_failed")) == 1


def test_a_watchdog_meant_for_another_process_is_not_fed(notify: NotifySocket) -> None:
    env = {"NOTIFY_SOCKET": notify.env_value, "WATCHDOG_USEC": "4000000"}
    assert ServiceNotifier.from_environment({**env, "WATCHDOG_PID": "1"}).watchdog_seconds is None
    mine = ServiceNotifier.from_environment({**env, "WATCHDOG_PID": str(os.getpid())})
    assert mine.watchdog_seconds == 4.0


async def test_a_status_text_cannot_add_a_line(notify: NotifySocket) -> None:
    ServiceNotifier(notify.env_value).status("waiting\nREADY=1")
    assert await notify.next() == {"STATUS": "waiting READY=1"}
