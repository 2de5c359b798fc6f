"""Issue 11, item 4 — "The late-cancel fee is announced only after cancelling."

"Inside `late_cancel_fee_hours`, the cancel confirmation page must say, before the patient
confirms, that the office may charge the fee [...]. The agent decides whether the appointment
is inside the fee window [...]; the proxy shows the warning on the confirmation page (before
the POST), and not outside the window."
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from agent.db.pool import DatabaseSettings
from tests.proxy.portal import portal
from tests.support.practice import DR_ADAMS, FOLLOW_UP

FEE_WARNING = "the office may charge a late-cancellation fee"
# Now is Monday 2026-11-23 12:00 UTC. Cancelling is allowed until 24 h before; a fee may be
# charged inside 48 h.
BOOKING = {"cancel_cutoff_hours": 24, "late_cancel_fee_hours": 48}
IN_30_HOURS = datetime(2026, 11, 24, 18, 0, tzinfo=UTC)
IN_49_HOURS = datetime(2026, 11, 25, 13, 0, tzinfo=UTC)


async def test_cancel_page_warns_of_the_fee_before_confirming(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path, booking=BOOKING) as site:
        inside = site.add_appointment(1, DR_ADAMS, FOLLOW_UP, IN_30_HOURS, 30)
        outside = site.add_appointment(1, DR_ADAMS, FOLLOW_UP, IN_49_HOURS, 30)
        browser = await site.signed_in(1)

        page = await browser.get(f"/appointments/{inside}/cancel")
        assert page.status == 200
        assert FEE_WARNING in page.visible_text
        # The warning comes before the button that cancels.
        assert page.text.index("late-cancellation fee") < page.text.index(
            "Yes, cancel this appointment"
        )
        assert site.query("SELECT status FROM appointments WHERE id = %s", (inside,)) == [
            {"status": "booked"}
        ]

        page = await browser.get(f"/appointments/{outside}/cancel")
        assert page.status == 200
        assert "Yes, cancel this appointment" in page.visible_text
        assert "fee" not in page.visible_text

        done = await browser.submit(
            await browser.get(f"/appointments/{inside}/cancel"), f"/appointments/{inside}/cancel"
        )
        assert "late-cancellation fee" in done.visible_text
