"""Issue 11, item 1 — "Booking skips days."

"Book → a type → a provider: page 1 of the day list ends Thu Dec 17 and "Show later dates"
links to `from=` Dec 19 or 21, so Fri Dec 18 (11 free times, reachable by URL) is never
listed. Same for every provider and "No preference", and for other `min_notice_hours`. Only
the first hand-over loses days. Every bookable day inside the horizon must be reachable by
clicking."

A patient clicks "Show later dates" from page 1 until it is gone; every day with a free time
up to the horizon must have been listed exactly once. The expected days are worked out here
from the small practice's working hours (Mon-Fri 09:00-17:00 New York, 30-minute Follow-up on
a 15-minute grid) and the booking window, not by asking the agent.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from agent.db.pool import DatabaseSettings
from tests.proxy.portal import Browser, portal
from tests.support.practice import DR_BAKER, FOLLOW_UP, TIMEZONE

# Friday 2026-11-27 18:00 in New York: after hours, so "today" has no free time left, and the
# notice periods below land on a weekend evening or after a weekday's hours.
NOW = datetime(2026, 11, 27, 23, 0, tzinfo=UTC)
HORIZON_DAYS = 30
ZONE = ZoneInfo(TIMEZONE)


def bookable_days(now: datetime, notice_hours: int) -> list[str]:
    """Local dates on which some Follow-up start fits the working hours and the window."""
    earliest = now + timedelta(hours=notice_hours)
    latest = now + timedelta(days=HORIZON_DAYS)
    day = now.astimezone(ZONE).date()
    found = []
    while day <= latest.astimezone(ZONE).date():
        if day.weekday() < 5:
            starts = (
                datetime(day.year, day.month, day.day, 9, tzinfo=ZONE) + timedelta(minutes=m)
                for m in range(0, 8 * 60 - 30 + 1, 15)
            )
            if any(earliest <= s <= latest for s in starts):
                found.append(day.isoformat())
        day += timedelta(days=1)
    return found


async def listed_days(browser: Browser, provider: str) -> list[str]:
    """Every day offered while following "Show later dates" from the first page."""
    page = await browser.get(f"/book?type={FOLLOW_UP}&provider={provider}")
    days: list[str] = []
    for _ in range(20):  # far more pages than the horizon can need
        assert page.status == 200, page.visible_text
        days += [link.split("day=")[1][:10] for link in page.links(r"day=")]
        later = re.findall(r'<a [^>]*href="([^"]*)"[^>]*>Show later dates', page.text)
        if not later:
            return days
        page = await browser.get(html.unescape(later[0]))
    raise AssertionError("Show later dates never ends")


@pytest.mark.parametrize("notice_hours", [0, 24, 48, 72])
async def test_every_bookable_day_is_reachable_by_clicking(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path, notice_hours: int
) -> None:
    booking = {"min_notice_hours": notice_hours, "horizon_days": HORIZON_DAYS}
    expected = bookable_days(NOW, notice_hours)
    assert date.fromisoformat(expected[-1]) > NOW.date() + timedelta(days=20)  # several pages
    async with portal(practice_db, link_keys, tmp_path, booking=booking, now=NOW) as site:
        browser = await site.signed_in(1)
        for provider in (str(DR_BAKER), "any"):
            assert await listed_days(browser, provider) == expected, provider
