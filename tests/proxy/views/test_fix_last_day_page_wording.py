"""Journey review after issue 11: the last page of days said "in these two weeks".

Following "Show later dates" to the end in the demo, the last page (which the booking
window cuts short: it ends a few days in) read "There are no free times online in these two
weeks. Please call". Online booking stops there, not just for two weeks: the page now says
there are no more free times online, and to call.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from agent.db.pool import DatabaseSettings
from tests.proxy.portal import portal
from tests.support.practice import DR_BAKER, FOLLOW_UP

# Friday 2026-11-27 18:00 New York; a 9-day window ends Sunday 2026-12-06 18:00.
NOW = datetime(2026, 11, 27, 23, 0, tzinfo=UTC)


async def test_the_page_where_online_booking_ends_says_so(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    booking = {"horizon_days": 9}
    async with portal(practice_db, link_keys, tmp_path, booking=booking, now=NOW) as site:
        browser = await site.signed_in(1)
        # From Saturday Dec 5: a weekend, then the window's end; no working day is left.
        page = await browser.get(f"/book?type={FOLLOW_UP}&provider={DR_BAKER}&from=2026-12-05")

        assert page.status == 200
        assert "Show later dates" not in page.visible_text
        assert "in these two weeks" not in page.visible_text
        assert "There are no more free times online. Please call +1 555 0100 to book." in (
            page.visible_text
        )
