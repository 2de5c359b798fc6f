"""The time items: the practice's time zone, and a clock that is neither before this release
was installed nor a minute away from the database server's (sessions, tokens and booking
windows all hang on "now")."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from agent.check.run import check_clock, check_time_zone, installed_at
from agent.clock import FixedClock, SystemClock
from agent.db.pool import DatabaseSettings
from tests.agent.check.check_fixtures import check, write_config


def test_the_time_zone_line_shows_the_practice_local_time() -> None:
    clock = FixedClock(datetime(2026, 7, 1, 16, 30, tzinfo=UTC))

    result = check_time_zone("America/New_York", clock)

    assert result.status.value == "OK"
    assert result.summary == "America/New_York: it is 12:30 EDT there now"


def test_an_unknown_time_zone_fails_with_what_to_install() -> None:
    result = check_time_zone("Mars/Olympus_Mons", SystemClock())

    assert result.status.value == "FAIL"
    assert "tzdata" in result.fix[0]


def test_a_clock_before_this_release_was_installed_fails() -> None:
    long_ago = FixedClock(datetime(2001, 1, 1, tzinfo=UTC))

    result = check_clock(long_ago, None)

    assert result.status.value == "FAIL"
    assert result.summary == (
        "the clock says 2001-01-01 00:00:00 UTC, before this Portico release was installed "
        f"({installed_at():%Y-%m-%d})"
    )
    assert "timedatectl set-ntp true" in result.fix[0]


def test_a_clock_a_minute_from_the_database_fails(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    ten_minutes_fast = FixedClock(datetime.now(UTC) + timedelta(minutes=10))

    run = check(write_config(tmp_path, practice_db, link_keys), clock=ten_minutes_fast)

    line = run.line("clock")
    assert run.status == 1
    assert re.search(r"^FAIL  clock        the database server's clock is 6\d\d s behind", line)


def test_a_synchronised_clock_is_ok_and_says_how_close(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    run = check(write_config(tmp_path, practice_db, link_keys))

    assert re.search(
        r"^OK    clock        .* UTC; \d+\.\d s from the database's clock$", run.line("clock")
    )
