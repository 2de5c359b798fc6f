"""Issue 11, must show: "`make demo` on a fresh clone, then the whole booking day list clicked
through to the horizon, every day with a free slot listed exactly once (a browser test)."

scripts/demo.sh runs with its own state folder, database and ports (so it never touches a
developer's demo and can run beside one); Chromium signs in with the login it printed, goes
Book -> the first type -> each provider and "No preference", and presses "Show later dates"
until it is gone. The days that must be listed are computed here, independently of the agent,
from the demo database (working hours, booked appointments, time off) and the booking rules of
the demo's agent.yaml, as DESIGN.md states them: a start on the local rounding grid, the whole
visit inside one working block, clear of booked visits and time off, between now + notice and
now + horizon. Since "now" moves while the test runs, the set is computed before and after each
walk: a day in both must be listed, a day in neither must not be.

Whether the first hand-over between pages loses days depends on the hour the test runs (it
does when the first bookable day has no free time left), so after walking the fresh demo the
test also closes the office on its first bookable day(s) — time off for every provider, as an
office enters a training day — and walks "No preference" again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

from playwright.async_api import Browser, Page, expect

from agent.config import load_config
from tests.e2e.demo_script import Demo, Running, demo_beside_others, running_demo
from tests.support.database import MariaDB

DESKTOP = {"viewport": {"width": 1280, "height": 900}}


@dataclass(frozen=True)
class Rules:
    zone: ZoneInfo
    notice: timedelta
    horizon: timedelta
    grid: int  # minutes


@dataclass(frozen=True)
class Practice:
    """The rows that decide the free days of one appointment type (UTC naive datetimes)."""

    duration: timedelta
    hours: dict[int, list[tuple[int, time, time]]]  # provider -> (weekday 0=Mon, start, end)
    busy: dict[int, list[tuple[datetime, datetime]]]


def read_rules(demo: Demo) -> Rules:
    config = load_config(demo.state / "agent.yaml")
    booking = config.booking
    return Rules(
        zone=ZoneInfo(config.practice.timezone),
        notice=timedelta(hours=booking.min_notice_hours),
        horizon=timedelta(days=booking.horizon_days),
        grid=booking.round_to_minutes,
    )


def _clock(value: Any) -> time:
    """A TIME column as PyMySQL returns it (a timedelta since midnight)."""
    if isinstance(value, timedelta):
        return (datetime.min + value).time()
    return value  # type: ignore[no-any-return]


def read_practice(demo: Demo, login: str, type_id: int, providers: list[int]) -> Practice:
    """The rows, plus the signed-in patient's own booked visits: a time overlapping one of them
    is not offered with any provider (she cannot be in two rooms at once)."""
    with demo.connect() as connection, connection.cursor() as cursor:
        cursor.execute(
            "SELECT a.starts_at, a.ends_at FROM appointments a"
            " JOIN portal_accounts p ON p.patient_id = a.patient_id"
            " WHERE (p.login_email = %s OR p.username = %s) AND a.status = 'booked'",
            (login, login),
        )
        own = [(r["starts_at"], r["ends_at"]) for r in cursor.fetchall()]
        cursor.execute("SELECT duration_minutes FROM appointment_types WHERE id = %s", (type_id,))
        duration = timedelta(minutes=cursor.fetchone()["duration_minutes"])
        hours: dict[int, list[tuple[int, time, time]]] = {p: [] for p in providers}
        busy: dict[int, list[tuple[datetime, datetime]]] = {p: [] for p in providers}
        for provider in providers:
            cursor.execute(
                "SELECT weekday, start_time, end_time FROM provider_hours WHERE provider_id = %s",
                (provider,),
            )
            hours[provider] = [
                (r["weekday"], _clock(r["start_time"]), _clock(r["end_time"]))
                for r in cursor.fetchall()
            ]
            cursor.execute(
                "SELECT starts_at, ends_at FROM appointments"
                " WHERE provider_id = %s AND status = 'booked'"
                " UNION ALL SELECT starts_at, ends_at FROM provider_time_off"
                " WHERE provider_id = %s",
                (provider, provider),
            )
            busy[provider] = [(r["starts_at"], r["ends_at"]) for r in cursor.fetchall()] + own
    return Practice(duration, hours, busy)


def _utc(day: date, clock: time, zone: ZoneInfo) -> datetime | None:
    """A local wall time as naive UTC; None where it does not exist (spring forward)."""
    local = datetime.combine(day, clock, zone)
    utc = local.astimezone(UTC)
    if utc.astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
        return None
    return utc.replace(tzinfo=None)


def free_days(rules: Rules, practice: Practice, providers: list[int]) -> set[date]:
    """The local days on which at least one of `providers` has a start the rules allow now."""
    now = datetime.now(UTC).replace(tzinfo=None)
    earliest, latest = now + rules.notice, now + rules.horizon
    today = now.replace(tzinfo=UTC).astimezone(rules.zone).date()
    last = latest.replace(tzinfo=UTC).astimezone(rules.zone).date()
    days = set()
    day = today
    while day <= last:
        for provider in providers:
            if any(
                _has_free_start(day, start, end, rules, practice, provider, earliest, latest)
                for weekday, start, end in practice.hours[provider]
                if weekday == day.weekday()
            ):
                days.add(day)
                break
        day += timedelta(days=1)
    return days


def _has_free_start(
    day: date,
    start: time,
    end: time,
    rules: Rules,
    practice: Practice,
    provider: int,
    earliest: datetime,
    latest: datetime,
) -> bool:
    first = start.hour * 60 + start.minute
    first += -first % rules.grid  # the first grid line inside the block
    stop = end.hour * 60 + end.minute
    block_end = _utc(day, end, rules.zone)
    for minute in range(first, stop, rules.grid):
        begins = _utc(day, time(minute // 60, minute % 60), rules.zone)
        if begins is None or block_end is None:
            continue
        ends = begins + practice.duration
        if ends > block_end or not earliest <= begins <= latest:
            continue
        if all(
            not (begins < b_end and b_start < ends) for b_start, b_end in practice.busy[provider]
        ):
            return True
    return False


async def sign_in(page: Page, url: str, login: str, password: str) -> None:
    await page.goto(url)
    await page.get_by_label("Email address or username", exact=True).fill(login)
    await page.get_by_label("Password", exact=True).fill(password)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("My appointments")


async def choose_type(page: Page, url: str) -> int:
    """Book -> the first appointment type; the type's id."""
    await page.goto(url + "appointments")
    await page.get_by_role("main").get_by_role("link", name="Book an appointment").click()
    first = page.get_by_role("radio").first
    await first.check()
    await page.get_by_role("button", name="Next").click()
    await expect(page.get_by_role("main")).to_contain_text("Step 2 of 5")
    return int(parse_qs(urlsplit(page.url).query)["type"][0])


async def walk_day_list(page: Page) -> list[list[date]]:
    """The days each page of the list shows, page after page, until "Show later dates" is
    gone."""
    pages: list[list[date]] = []
    for _ in range(60):
        await expect(page.get_by_role("heading", name="Choose a day")).to_be_visible()
        hrefs = await page.locator("ul.day-list a").evaluate_all(
            "links => links.map(a => a.getAttribute('href'))"
        )
        pages.append([date.fromisoformat(parse_qs(urlsplit(h).query)["day"][0]) for h in hrefs])
        later = page.get_by_role("link", name="Show later dates")
        if not await later.count():
            return pages
        async with page.expect_navigation(wait_until="load"):
            await later.click()
    raise AssertionError("the day list never ended")


@dataclass
class Walk:
    name: str
    providers: list[int]
    pages: list[list[date]]
    must: set[date]  # free both before and after the walk
    may: set[date]  # free before or after


async def walk(
    page: Page, demo: Demo, rules: Rules, running: Running, choice: str, providers: list[int]
) -> Walk:
    url = running.url
    type_id = await choose_type(page, url)
    radio = page.get_by_role("radio", name=re.compile("^" + re.escape(choice)))
    await radio.check()
    await page.get_by_role("button", name="Next").click()
    practice = read_practice(demo, running.login, type_id, providers)
    before = free_days(rules, practice, providers)
    pages = await walk_day_list(page)
    after = free_days(rules, read_practice(demo, running.login, type_id, providers), providers)
    return Walk(choice, providers, pages, before & after, before | after)


def problems(result: Walk) -> list[str]:
    found = []
    listed = [day for days in result.pages for day in days]
    twice = sorted({d for d in listed if listed.count(d) > 1})
    if twice:
        found.append(f"{result.name}: listed more than once: {twice}")
    missing = sorted(result.must - set(listed))
    if missing:
        found.append(f"{result.name}: days with a free time that are not listed: {_days(missing)}")
    extra = sorted(set(listed) - result.may)
    if extra:
        found.append(f"{result.name}: days listed without a free time: {_days(extra)}")
    if found:
        shown = "; ".join(f"{_days(days[:1])}..{_days(days[-1:])}" for days in result.pages)
        found.append(f"{result.name}: the pages listed {shown}")
    return found


def _days(days: list[date]) -> str:
    return ", ".join(day.strftime("%a %Y-%m-%d") for day in days) or "nothing"


async def providers_offered(page: Page) -> list[tuple[str, int | None]]:
    """The choices of step 2 as (name, provider id or None for No preference)."""
    offered = []
    for value in await page.get_by_role("radio").evaluate_all(
        "radios => radios.map(r => r.value + '|' + r.labels[0].innerText)"
    ):
        key, _, label = value.partition("|")
        offered.append((label.split("(")[0].strip(), None if key == "any" else int(key)))
    return offered


def close_first_working_days(demo: Demo, rules: Rules, providers: list[int]) -> None:
    """Time off for every provider from the first bookable local day through the first one on
    which any of them works: whatever the hour, no free time is left before the day after."""
    first = (datetime.now(UTC) + rules.notice).astimezone(rules.zone).date()
    with demo.connect() as connection, connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT weekday FROM provider_hours WHERE provider_id IN ({})".format(
                ", ".join("%s" for _ in providers)
            ),
            providers,
        )
        working = {r["weekday"] for r in cursor.fetchall()}
        last = first
        while last.weekday() not in working:
            last += timedelta(days=1)
        start = _utc(first, time(), rules.zone)
        end = _utc(last + timedelta(days=1), time(), rules.zone)
        cursor.executemany(
            "INSERT INTO provider_time_off (provider_id, starts_at, ends_at) VALUES (%s, %s, %s)",
            [(p, start, end) for p in providers],
        )


async def test_the_whole_day_list_shows_every_free_day_exactly_once(
    browser: Browser, mariadb: MariaDB, tmp_path: Path
) -> None:
    with demo_beside_others(mariadb, tmp_path / "demo") as demo, running_demo(demo) as running:
        rules = read_rules(demo)
        context = await browser.new_context(**DESKTOP, locale="en-US", timezone_id="Asia/Tokyo")
        context.set_default_timeout(15_000)
        try:
            page = await context.new_page()
            await sign_in(page, running.url, running.login, running.password)
            await choose_type(page, running.url)
            offered = await providers_offered(page)
            everyone = [p for _, p in offered if p is not None]
            assert everyone and any(p is None for _, p in offered), offered

            walks = []
            for name, provider in offered:
                providers = everyone if provider is None else [provider]
                walks.append(await walk(page, demo, rules, running, name, providers))
            found = [problem for result in walks for problem in problems(result)]
            assert all(result.must for result in walks), "a walk found no free day at all"

            close_first_working_days(demo, rules, everyone)
            closed = await walk(page, demo, rules, running, "No preference", everyone)
            found += [f"office closed on its first day(s): {p}" for p in problems(closed)]
        finally:
            await context.close()
        assert not found, "\n".join(found)
