"""Booking through the pages, end to end: type -> provider or No preference -> day -> time ->
confirm -> booked, against the real agent; and the refusals a patient can run into."""

from __future__ import annotations

from pathlib import Path

from agent.db.pool import DatabaseSettings
from tests.proxy.portal import Browser, Page, Portal, portal
from tests.support.practice import DR_ADAMS, FOLLOW_UP

# Now is Monday 2026-11-23 07:00 New York; 24 hours' notice makes Tuesday 9:00 AM the first
# free time (14:00 UTC), on a 15-minute grid.
FIRST_DAY = "Tuesday, November 24, 2026"
FIRST_START = "2026-11-24T14:00:00Z"


async def _choose(browser: Browser, provider: str) -> Page:
    """Type -> provider -> first day -> time step, as a patient clicks through."""
    page = await browser.get("/book")
    assert page.status == 200 and "Step 1 of 5" in page.visible_text
    page = await browser.submit(page, "/book", type=str(FOLLOW_UP))
    assert "Who would you like to see?" in page.visible_text
    page = await browser.submit(page, "/book", provider=provider)
    assert "Choose a day" in page.visible_text
    (first_day,) = [link for link in page.links(r"day=") if "2026-11-24" in link]
    page = await browser.get(first_day)
    assert f"Choose a time on {FIRST_DAY}" in page.visible_text
    return page


def _appointments(site: Portal, patient: int) -> list[dict[str, object]]:
    return site.query(
        "SELECT id, provider_id, starts_at, status FROM appointments WHERE patient_id = %s"
        " ORDER BY id",
        (patient,),
    )


async def test_book_with_a_chosen_provider(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        browser = await site.signed_in(1)
        page = await _choose(browser, str(DR_ADAMS))
        assert "9:00 AM" in page.visible_text and "4:30 PM" in page.visible_text

        confirm = await browser.submit(page, "/book/confirm", start=FIRST_START)
        assert confirm.status == 200
        assert f"{FIRST_DAY} at 9:00 AM" in confirm.visible_text
        assert "Follow-up (30 minutes)" in confirm.visible_text
        assert "Dr. Adams" in confirm.visible_text
        assert _appointments(site, 1) == []  # showing the confirm page books nothing

        booked = await browser.submit(confirm, "/book/confirm")
        assert booked.status == 200
        assert "You're booked" in booked.visible_text
        assert f"{FIRST_DAY} at 9:00 AM" in booked.visible_text
        [row] = _appointments(site, 1)
        assert row["provider_id"] == DR_ADAMS and row["status"] == "booked"
        assert booked.url == f"/appointments/{row['id']}/booked"


async def test_pressing_book_twice_books_once(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        browser = await site.signed_in(1)
        page = await _choose(browser, str(DR_ADAMS))
        confirm = await browser.submit(page, "/book/confirm", start=FIRST_START)

        first = await browser.submit(confirm, "/book/confirm")
        second = await browser.submit(confirm, "/book/confirm")

        [row] = _appointments(site, 1)
        assert first.url == second.url == f"/appointments/{row['id']}/booked"
        assert "You're booked" in second.visible_text


async def test_book_with_no_preference(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        browser = await site.signed_in(1)
        page = await _choose(browser, "any")
        confirm = await browser.submit(page, "/book/confirm", start=FIRST_START)
        assert "No preference" in confirm.visible_text

        booked = await browser.submit(confirm, "/book/confirm")

        [row] = _appointments(site, 1)
        assert row["status"] == "booked"
        # Both doctors are free; the tie goes to the lower id (fewest that day, then id).
        assert row["provider_id"] == DR_ADAMS
        assert "Dr. Adams" in booked.visible_text


async def test_no_preference_is_not_offered_when_the_office_says_no(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(
        practice_db, link_keys, tmp_path, booking={"allow_no_preference": False}
    ) as site:
        browser = await site.signed_in(1)
        page = await browser.get(f"/book?type={FOLLOW_UP}")
        assert page.form("/book").radios["provider"] == ["1", "2"]
        assert "No preference" not in page.visible_text
        # Asking for it anyway (an old bookmark) shows the choice of provider again.
        page = await browser.get(f"/book?type={FOLLOW_UP}&provider=any")
        assert page.form("/book").radios["provider"] == ["1", "2"]


async def test_a_time_taken_meanwhile_says_pick_another(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        browser = await site.signed_in(1)
        page = await _choose(browser, str(DR_ADAMS))
        confirm = await browser.submit(page, "/book/confirm", start=FIRST_START)

        rival = await site.signed_in(2)
        rival_page = await _choose(rival, str(DR_ADAMS))
        rival_confirm = await rival.submit(rival_page, "/book/confirm", start=FIRST_START)
        assert "You're booked" in (await rival.submit(rival_confirm, "/book/confirm")).visible_text

        refused = await browser.submit(confirm, "/book/confirm")

        assert refused.status == 409
        assert "That time was just taken \u2014 please pick another." in refused.visible_text
        # Back on the same day's times, without the one just taken.
        assert f"Choose a time on {FIRST_DAY}" in refused.visible_text
        assert FIRST_START not in refused.form("/book/confirm").radios["start"]
        assert _appointments(site, 1) == []


async def test_next_without_a_choice_asks_to_choose(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        browser = await site.signed_in(1)
        page = await browser.get("/book")
        page = await browser.submit(page, "/book")
        assert page.status == 422
        assert "Please choose one of the options" in page.visible_text
        page = await _choose(browser, str(DR_ADAMS))
        page = await browser.submit(page, "/book/confirm")
        assert page.status == 422
        assert "Please choose one of the options" in page.visible_text


async def test_booking_switched_off_says_call(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path, booking={"enabled": False}) as site:
        browser = await site.signed_in(1)
        page = await browser.get("/book")
        assert page.status == 409
        assert "does not take bookings online. Please call +1 555 0100" in page.visible_text
        assert (
            "Book an appointment"
            not in (await browser.get("/appointments")).text.split("</nav>")[1]
        )


async def test_limit_reached_is_explained(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(
        practice_db, link_keys, tmp_path, booking={"max_upcoming_per_patient": 1}
    ) as site:
        browser = await site.signed_in(1)
        # The time step open in two tabs: once one booking is made, step 1 says the limit is
        # reached (test_fix_limit_at_step_one.py), and the other tab's last step refuses.
        page = await _choose(browser, str(DR_ADAMS))
        for start in page.form("/book/confirm").radios["start"][-2:]:
            confirm = await browser.submit(page, "/book/confirm", start=start)
            result = await browser.submit(confirm, "/book/confirm")
        assert result.status == 409
        assert "as many upcoming appointments as this office allows online" in result.visible_text
        assert "+1 555 0100" in result.visible_text
        assert len(_appointments(site, 1)) == 1


async def test_signed_out_booking_goes_to_sign_in(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        page = await site.browser().get("/book")
        assert page.url == "/sign-in?notice=required&next=%2Fbook"
        assert "Please sign in first." in page.visible_text


async def test_a_time_outside_the_booking_window_is_explained(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        browser = await site.signed_in(1)
        page = await _choose(browser, str(DR_ADAMS))
        confirm = await browser.submit(page, "/book/confirm", start=FIRST_START)
        form = confirm.form("/book/confirm").fields
        # A confirm form edited (or kept for weeks): 45 days ahead, past the 30-day horizon.
        late = {**form, "day": "2027-01-07", "start": "2027-01-07T15:00:00Z"}
        refused = await browser.post("/book/confirm", late)
        assert refused.status == 409
        assert "That time can no longer be booked online" in refused.visible_text
        assert _appointments(site, 1) == []
        # Nonsense in the hidden fields goes back to the steps, not to an error page.
        odd = await browser.post("/book/confirm", {**form, "start": "soon", "type": "x"})
        assert odd.url == "/book?provider=1&day=2026-11-24"
        assert "What kind of appointment do you need?" in odd.visible_text
