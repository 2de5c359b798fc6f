"""The demo practice, seeded into a real MariaDB database of its own."""

from __future__ import annotations

import secrets
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pymysql
import pymysql.cursors
import pytest

from agent.db.migrate import apply_migrations
from agent.db.pool import DatabaseSettings
from agent.demo.practice import DemoSeedRefused, SeedSummary, seed_demo
from tests.support.database import MariaDB, connect

# Daylight saving starts on 2025-03-09 in New York, inside the ±60-day window: appointments
# on both sides must still sit inside the local working hours.
NOW = datetime(2025, 3, 1, 15, 7, 30, tzinfo=UTC)
TZ_NAME = "America/New_York"
TZ = ZoneInfo(TZ_NAME)
TODAY = date(2025, 3, 1)


@dataclass(frozen=True)
class Seeded:
    settings: DatabaseSettings
    summary: SeedSummary


@contextmanager
def fresh_database(mariadb: MariaDB, *, migrate: bool = True) -> Iterator[DatabaseSettings]:
    name = f"portico_seedtest_{secrets.token_hex(6)}"
    with mariadb.connect() as conn, conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    settings = DatabaseSettings(
        host=mariadb.host,
        port=mariadb.port,
        name=name,
        user=mariadb.user,
        password=mariadb.password,
    )
    try:
        if migrate:
            apply_migrations(settings)
        yield settings
    finally:
        with mariadb.connect() as conn, conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")


def seed_into(
    settings: DatabaseSettings,
    *,
    autocommit: bool = True,
    cursorclass: type[pymysql.cursors.Cursor] = pymysql.cursors.Cursor,
    **kwargs: Any,
) -> SeedSummary:
    conn = connect(
        settings,
        dict_rows=cursorclass is pymysql.cursors.DictCursor,
        autocommit=autocommit,
    )
    with conn:
        return seed_demo(conn, now=NOW, timezone=TZ_NAME, **kwargs)


def rows(settings: DatabaseSettings, sql: str, args: Any = None) -> list[tuple[Any, ...]]:
    conn = connect(settings)
    with conn, conn.cursor() as cur:
        cur.execute(sql, args)
        return list(cur.fetchall())


def counts(settings: DatabaseSettings) -> dict[str, int]:
    tables = (
        "patients",
        "providers",
        "appointment_types",
        "provider_appointment_types",
        "provider_hours",
        "provider_time_off",
        "appointments",
    )
    return {t: rows(settings, f"SELECT COUNT(*) FROM {t}")[0][0] for t in tables}


def local(utc_naive: datetime) -> datetime:
    return utc_naive.replace(tzinfo=UTC).astimezone(TZ).replace(tzinfo=None)


@pytest.fixture(scope="module")
def seeded(mariadb: MariaDB) -> Iterator[Seeded]:
    with fresh_database(mariadb) as settings:
        yield Seeded(settings, seed_into(settings))


def test_counts_are_as_requested(seeded: Seeded) -> None:
    s = seeded.summary
    assert (s.providers, s.appointment_types, s.patients, s.time_off) == (5, 6, 300, 2)
    assert counts(seeded.settings) == {
        "patients": 300,
        "providers": 5,
        "appointment_types": 6,
        "provider_appointment_types": 20,
        "provider_hours": 38,
        "provider_time_off": 2,
        "appointments": s.appointments,
    }
    assert 1500 <= s.appointments <= 5000
    offline = rows(seeded.settings, "SELECT name FROM appointment_types WHERE online_bookable = 0")
    assert offline == [("Procedure",)]
    offered = rows(
        seeded.settings,
        "SELECT provider_id, COUNT(*) FROM provider_appointment_types GROUP BY provider_id",
    )
    assert len(offered) == 5 and all(n < 6 for _, n in offered)


def test_hours_are_varied(seeded: Seeded) -> None:
    hours = rows(seeded.settings, "SELECT provider_id, weekday FROM provider_hours")
    per_day = Counter(hours)
    days = defaultdict(set)
    for provider, weekday in hours:
        days[provider].add(weekday)
    assert any(n == 2 for n in per_day.values()), "a split day with a lunch break"
    assert any(5 in d for d in days.values()), "a Saturday clinic"
    assert any(len(d) <= 3 for d in days.values()), "a part-timer"
    assert not any(6 in d for d in days.values())


def test_same_seed_gives_the_same_practice(mariadb: MariaDB, seeded: Seeded) -> None:
    patient_sql = (
        "SELECT first_name, last_name, date_of_birth, email, home_zip, phone"
        " FROM patients ORDER BY id"
    )
    appointment_sql = (
        "SELECT pr.display_name, a.starts_at, a.ends_at, a.status, p.email"
        " FROM appointments a JOIN providers pr ON pr.id = a.provider_id"
        " JOIN patients p ON p.id = a.patient_id ORDER BY a.id"
    )
    with fresh_database(mariadb) as again, fresh_database(mariadb) as other:
        # Not autocommit this time, and dict rows as the agent's pool uses: the seeder copes.
        assert seed_into(again, autocommit=False) == seeded.summary
        seed_into(other, seed=8, cursorclass=pymysql.cursors.DictCursor)
        first = rows(seeded.settings, patient_sql)
        assert rows(again, patient_sql) == first
        assert rows(again, appointment_sql) == rows(seeded.settings, appointment_sql)
        assert rows(other, patient_sql) != first


def test_no_provider_or_patient_is_in_two_places_at_once(seeded: Seeded) -> None:
    overlap = (
        "SELECT COUNT(*) FROM appointments a JOIN appointments b"
        " ON a.{col} = b.{col} AND a.id < b.id"
        " AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at"
        " WHERE {live}"
    )
    live = "a.status <> 'cancelled' AND b.status <> 'cancelled'"
    assert rows(seeded.settings, overlap.format(col="provider_id", live=live)) == [(0,)]
    assert rows(seeded.settings, overlap.format(col="patient_id", live=live)) == [(0,)]
    # Some cancelled slots were rebooked, so queries must filter on status to find free time.
    refilled = rows(seeded.settings, overlap.format(col="provider_id", live="1"))[0][0]
    assert refilled > 0


def test_every_appointment_is_inside_working_hours_on_the_grid(seeded: Seeded) -> None:
    blocks = defaultdict(list)
    for provider, weekday, start, end in rows(
        seeded.settings, "SELECT provider_id, weekday, start_time, end_time FROM provider_hours"
    ):
        blocks[provider, weekday].append((start, end))
    time_off = rows(
        seeded.settings, "SELECT provider_id, starts_at, ends_at FROM provider_time_off"
    )
    offsets = set()
    appointments = rows(seeded.settings, "SELECT provider_id, starts_at, ends_at FROM appointments")
    for provider, starts_at, ends_at in appointments:
        start, end = local(starts_at), local(ends_at)
        assert start.date() == end.date()
        assert abs((start.date() - TODAY).days) <= 60
        assert start.minute % 15 == 0 and start.second == 0
        midnight = datetime.combine(start.date(), time())
        assert any(
            s <= start - midnight and end - midnight <= e
            for s, e in blocks[provider, start.weekday()]
        ), f"provider {provider}: {start:%a %Y-%m-%d %H:%M}-{end:%H:%M} outside working hours"
        for off_provider, off_start, off_end in time_off:
            assert off_provider != provider or not (starts_at < off_end and off_start < ends_at)
        offsets.add(starts_at.replace(tzinfo=UTC).astimezone(TZ).utcoffset())
    # The window crossed the daylight-saving change, so both offsets were exercised.
    assert offsets == {timedelta(hours=-5), timedelta(hours=-4)}


def test_about_forty_percent_of_working_time_is_booked(seeded: Seeded) -> None:
    hours = rows(
        seeded.settings, "SELECT provider_id, weekday, start_time, end_time FROM provider_hours"
    )
    time_off = rows(
        seeded.settings, "SELECT provider_id, starts_at, ends_at FROM provider_time_off"
    )
    working: Counter[int] = Counter()
    for offset in range(-60, 61):
        day = TODAY + timedelta(days=offset)
        for provider, weekday, start, end in hours:
            if weekday != day.weekday():
                continue
            midnight = datetime.combine(day, time(), TZ)
            s = (midnight + start).astimezone(UTC).replace(tzinfo=None)
            e = (midnight + end).astimezone(UTC).replace(tzinfo=None)
            minutes = (e - s).total_seconds() / 60
            for off_provider, off_start, off_end in time_off:
                if off_provider == provider:
                    overlap = min(e, off_end) - max(s, off_start)
                    minutes -= max(0.0, overlap.total_seconds() / 60)
            working[provider] += minutes
    booked = dict(
        rows(
            seeded.settings,
            "SELECT provider_id, SUM(TIMESTAMPDIFF(MINUTE, starts_at, ends_at))"
            " FROM appointments WHERE status <> 'cancelled' GROUP BY provider_id",
        )
    )
    for provider, minutes in working.items():
        assert 0.3 <= float(booked[provider]) / minutes <= 0.5, provider


def test_statuses_follow_the_clock(seeded: Seeded) -> None:
    now = NOW.replace(tzinfo=None)
    past = Counter()
    future = Counter()
    for starts_at, status, cancelled_at, cancelled_by, created_at in rows(
        seeded.settings,
        "SELECT starts_at, status, cancelled_at, cancelled_by, created_at FROM appointments",
    ):
        (past if starts_at < now else future)[status] += 1
        assert created_at <= now
        if status == "cancelled":
            assert cancelled_by in ("patient", "staff")
            assert created_at <= cancelled_at <= now
        else:
            assert cancelled_at is None and cancelled_by is None
    assert set(past) == {"completed", "no_show", "cancelled"}
    assert set(future) == {"booked", "cancelled"}
    assert past["completed"] > past["no_show"] and future["booked"] > future["cancelled"]


def test_patients_exercise_the_duplicate_and_invite_rules(seeded: Seeded) -> None:
    patients = rows(
        seeded.settings,
        "SELECT first_name, last_name, date_of_birth, email, home_zip FROM patients",
    )
    emails = [p[3] for p in patients if p[3] is not None]
    assert all(e.strip().casefold().endswith("@example.org") for e in emails)
    assert 10 <= sum(p[3] is None for p in patients) <= 25
    assert 10 <= sum(p[4] is None for p in patients) <= 25
    assert all(date(1930, 1, 1) <= p[2] <= date(2024, 12, 31) for p in patients)
    assert any(not (p[0] + p[1]).isascii() for p in patients), "names with accents"

    by_email = defaultdict(list)
    for p in patients:
        if p[3] is not None:
            by_email[p[3]].append(p)
    shared = {e: ps for e, ps in by_email.items() if len(ps) > 1}
    assert len(shared) == seeded.summary.shared_email_groups >= 5
    for family in shared.values():
        assert len({p[1] for p in family}) == 1, "a shared email belongs to one family"

    by_normalised = defaultdict(set)
    for email in by_email:
        by_normalised[email.strip().casefold()].add(email)
    variants = [spellings for spellings in by_normalised.values() if len(spellings) > 1]
    assert len(variants) == seeded.summary.case_variant_groups >= 5
    assert all(len({e.strip().casefold() for e in v}) == 1 for v in variants)


def test_refuses_a_database_that_already_has_patients(seeded: Seeded) -> None:
    before = counts(seeded.settings)
    with pytest.raises(DemoSeedRefused, match="patients table already has rows"):
        seed_into(seeded.settings, seed=99)
    assert counts(seeded.settings) == before


def test_refuses_a_database_that_was_not_migrated(mariadb: MariaDB) -> None:
    with (
        fresh_database(mariadb, migrate=False) as bare,
        pytest.raises(DemoSeedRefused, match="portico-agent migrate"),
    ):
        seed_into(bare)
