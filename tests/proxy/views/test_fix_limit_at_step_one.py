"""Issue 11 — "`max_upcoming_per_patient` is refused only at the last of 5 steps; say so at
step 1."

"When the patient already has the maximum upcoming appointments, the first booking step
(choose a type) must say so (with the office phone / "cancel one first"), decided by the agent
(e.g. the types/availability answer tells the proxy `limit_reached`), and the final step still
refuses as before."
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from agent.db.pool import DatabaseSettings
from tests.proxy.portal import portal
from tests.support.practice import DR_ADAMS, FOLLOW_UP

LIMIT = "as many upcoming appointments as this office allows online"
# Now is Monday 2026-11-23 12:00 UTC; the office allows one upcoming appointment online.
BOOKING = {"max_upcoming_per_patient": 1}
WEDNESDAY_10AM = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
LAST_FRIDAY = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


async def test_step_one_says_the_limit_is_reached(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path, booking=BOOKING) as site:
        site.add_appointment(1, DR_ADAMS, FOLLOW_UP, WEDNESDAY_10AM, 30)
        site.add_appointment(2, DR_ADAMS, FOLLOW_UP, LAST_FRIDAY, 30)  # past: does not count

        full = await site.signed_in(1)
        page = await full.get("/book")
        assert page.status == 200
        assert LIMIT in page.visible_text
        assert "cancel one" in page.visible_text and "+1 555 0100" in page.visible_text
        assert not [f for f in page.forms() if f.action == "/book"]  # no type to choose

        # The last step still refuses (a bookmarked or second-tab confirm page).
        confirm = await full.get(
            f"/book/confirm?type={FOLLOW_UP}&provider={DR_ADAMS}&day=2026-11-26"
            "&start=2026-11-26T15:00:00Z"
        )
        refused = await full.submit(confirm, "/book/confirm")
        assert refused.status == 409 and LIMIT in refused.visible_text

        free = await site.signed_in(2)
        page = await free.get("/book")
        assert LIMIT not in page.visible_text
        assert page.form("/book").radios["type"]
