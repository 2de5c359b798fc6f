"""protocol/service/logs.py: the JSON log lines both programs write, and what they never
carry (secrets, patient data, local variables in tracebacks)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
import structlog

from protocol.service.logs import configure_logging


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    out = io.StringIO()
    configure_logging("debug", stream=out)
    yield out
    configure_logging()


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_structlog_events_are_json_lines_with_utc_timestamp(stream: io.StringIO) -> None:
    structlog.get_logger("portico.test").info("link_up", tenant="demo", stream_id=3)

    [record] = lines(stream)
    assert record["event"] == "link_up"
    assert record["level"] == "info"
    assert record["logger"] == "portico.test"
    assert record["tenant"] == "demo"
    assert record["stream_id"] == 3
    ts = datetime.fromisoformat(record["ts"])
    assert ts.utcoffset() == timedelta(0)


def test_stdlib_logs_are_rendered_as_json(stream: io.StringIO) -> None:
    logging.getLogger("aiohttp.access").warning("GET %s -> %d", "/", 200)

    [record] = lines(stream)
    assert record["event"] == "GET / -> 200"
    assert record["level"] == "warning"
    assert record["logger"] == "aiohttp.access"
    assert "ts" in record


def test_level_filters(stream: io.StringIO) -> None:
    configure_logging("warning", stream=stream)
    log = structlog.get_logger("portico.test")
    log.info("quiet")
    logging.getLogger("other").info("quiet too")
    log.warning("loud")

    assert [r["event"] for r in lines(stream)] == ["loud"]


def test_sensitive_values_are_redacted(stream: io.StringIO) -> None:
    structlog.contextvars.bind_contextvars(session_token="canary-ctx-session-4242")
    try:
        structlog.get_logger("portico.test").info(
            "login_attempt",
            password="hunter2hunter2",
            Email="canary@example.org",
            session="canary-session-token-9f8e7d",
            patient={"first_name": "Canaryfirst", "DOB": "1970-01-02", "home_zip": "99999"},
            Authorization="Bearer canary-bearer",
            phone_number="+1 555 0100 canary",
            outcome="failed",
        )
    finally:
        structlog.contextvars.clear_contextvars()

    output = stream.getvalue()
    for canary in (
        "hunter2hunter2",
        "canary@example.org",
        "canary-session-token-9f8e7d",
        "canary-ctx-session-4242",
        "Canaryfirst",
        "1970-01-02",
        "99999",
        "canary-bearer",
        "555 0100",
    ):
        assert canary not in output
    [record] = lines(stream)
    assert record["password"] == "[redacted]"
    assert record["Email"] == "[redacted]"
    assert record["patient"]["DOB"] == "[redacted]"
    assert record["outcome"] == "failed"
    assert record["event"] == "login_attempt"


def test_exceptions_never_carry_locals(stream: io.StringIO) -> None:
    log = structlog.get_logger("portico.test")

    def look_up_patient() -> None:
        patient_record = "canary-local-Jane-Roe-1970"  # noqa: F841 (it must exist as a local)
        raise LookupError("no such slot")

    try:
        look_up_patient()
    except LookupError:
        log.exception("lookup_failed")
    try:
        look_up_patient()
    except LookupError:
        logging.getLogger("library").exception("library failure")

    output = stream.getvalue()
    assert "canary-local-Jane-Roe-1970" not in output
    records = lines(stream)
    assert len(records) == 2
    for record in records:
        [exc] = record["exception"]
        assert exc["exc_type"] == "LookupError"
        assert any(frame["name"] == "look_up_patient" for frame in exc["frames"])


def test_configuring_twice_does_not_duplicate_output() -> None:
    out = io.StringIO()
    try:
        configure_logging(stream=out)
        configure_logging(stream=out)
        structlog.get_logger("portico.test").info("once")
        logging.getLogger("lib").info("once too")
    finally:
        configure_logging()

    assert [r["event"] for r in lines(out)] == ["once", "once too"]


def test_unknown_level_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown log level"):
        configure_logging("loud")
