"""Attacks made through the browser: a cross-site POST, a session cookie carried to another
office, and Host headers that name no office."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.async_api import APIResponse, Page, Request, expect

from agent.db.pool import DatabaseSettings
from tests.e2e.attacker_site import attacker_site
from tests.e2e.canary import CANARY_FIRST
from tests.e2e.page_checks import PageChecks
from tests.e2e.patient_steps import Patient
from tests.e2e.portal_site import OTHER_SUBDOMAIN, PortalSite, Tenant, portal_site
from tests.e2e.signed_in import signed_in_canary
from tests.support.logs import LogCapture
from tests.support.practice import DR_ADAMS, FOLLOW_UP

WEDNESDAY_9 = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
FOREIGN = "https://evil.example"
REFUSED = "Please try that again"


@pytest.fixture
async def site(
    practice_db: DatabaseSettings,
    other_practice_db: DatabaseSettings,
    link_keys: Path,
    tmp_path: Path,
    logs: LogCapture,
    link_mode: str,
) -> AsyncIterator[PortalSite]:
    """Here the proxy serves two offices, each with its own agent and database."""
    async with portal_site(
        practice_db, link_keys, tmp_path, other_settings=other_practice_db, mode=link_mode
    ) as running:
        yield running


def booked_appointment(tenant: Tenant) -> int:
    office = tenant.office
    office.execute(
        "INSERT INTO appointments (patient_id, provider_id, appointment_type_id, starts_at,"
        " ends_at, status, source) VALUES (1, %s, %s, %s, %s, 'booked', 'office')",
        (
            DR_ADAMS,
            FOLLOW_UP,
            WEDNESDAY_9.replace(tzinfo=None),
            (WEDNESDAY_9 + timedelta(minutes=30)).replace(tzinfo=None),
        ),
    )
    return int(office.query("SELECT MAX(id) AS id FROM appointments")[0]["id"])


def status_of(tenant: Tenant, appointment: int) -> str:
    [row] = tenant.office.query("SELECT status FROM appointments WHERE id = %s", (appointment,))
    return str(row["status"])


async def cookie_header(page: Page, tenant: Tenant) -> str:
    cookies = await page.context.cookies(tenant.origin)
    return "; ".join(f"{c['name']}={c['value']}" for c in cookies)


async def post_as_browser(
    page: Page,
    site: PortalSite,
    tenant: Tenant,
    path: str,
    *,
    headers: dict[str, str],
    form: dict[str, str],
) -> APIResponse:
    """A POST through the browser context's request API, carrying this office's cookies.

    Playwright's API requests run in Node, which cannot resolve *.localhost, so the request
    goes to 127.0.0.1 with the office's Host header, and the cookies are sent explicitly."""
    return await page.request.post(
        site.loopback + path,
        headers={"Host": tenant.host, "Cookie": await cookie_header(page, tenant), **headers},
        form=form,
        max_redirects=0,
    )


async def test_a_cross_site_post_is_refused_and_changes_nothing(
    site: PortalSite, patient: Patient, checks: PageChecks
) -> None:
    clinic = site.clinic
    appointment = booked_appointment(clinic)
    await signed_in_canary(clinic, patient)
    page = patient.page
    csrf = await page.locator('input[name="csrf"]').first.get_attribute("value")
    assert csrf
    cancel = f"/appointments/{appointment}/cancel"

    # The session cookie sent along (the worst case), but without the token, from a foreign
    # origin, or both; a sibling office's subdomain is a foreign origin too. `Origin: null`
    # (what the portal's own pages send under no-referrer) passes only with the browser's own
    # `Sec-Fetch-Site: same-origin`, which a page on another site cannot make it send.
    sibling = f"http://{site.host(OTHER_SUBDOMAIN)}"
    null_same_origin = {"Origin": "null", "Sec-Fetch-Site": "same-origin"}
    attempts = {
        "foreign Origin, no CSRF token": ({"Origin": FOREIGN}, {}),
        "own Origin, no CSRF token": ({"Origin": clinic.origin}, {}),
        "foreign Origin, valid CSRF token": ({"Origin": FOREIGN}, {"csrf": csrf}),
        "sibling office's Origin, valid token": ({"Origin": sibling}, {"csrf": csrf}),
        "null Origin from another site, valid token": (
            {"Origin": "null", "Sec-Fetch-Site": "cross-site"},
            {"csrf": csrf},
        ),
        "null Origin, no Sec-Fetch-Site, valid token": ({"Origin": "null"}, {"csrf": csrf}),
        "no Origin, foreign Referer, valid token": (
            {"Referer": FOREIGN + "/page"},
            {"csrf": csrf},
        ),
        "null Origin, same-origin fetch, no CSRF token": (null_same_origin, {}),
        "null Origin, same-origin fetch, forged token": (null_same_origin, {"csrf": "0" * 64}),
    }
    for n, (what, (headers, form)) in enumerate(attempts.items()):
        response = await post_as_browser(
            page, site, clinic, cancel, headers=headers, form={"idem": f"attack-{n}", **form}
        )
        checks.check_api_response(response)
        assert response.status == 403, what
        assert REFUSED in await response.text(), what
        assert status_of(clinic, appointment) == "booked", what

    # Real pages on another site, whose button posts the same form, in this browser: an
    # ordinary one (foreign Origin) and a sandboxed one (Origin: null). Chromium also holds
    # back the SameSite=Lax cookies on these, so two defences refuse them here.
    posted: list[Request] = []
    page.on("request", lambda request: posted.append(request))
    for sandboxed, step in ((False, "cross-site-form"), (True, "cross-site-sandboxed-form")):
        async with attacker_site(clinic.url(cancel), {"idem": step}, sandboxed=sandboxed) as evil:
            await page.goto(evil)
            await patient.press(page.get_by_role("button", name="Claim my prize"), step)
        [post] = [r for r in posted if r.method == "POST" and r.url == clinic.url(cancel)]
        sent = await post.all_headers()
        assert sent.get("origin") == ("null" if sandboxed else evil.rstrip("/")), sent
        assert sent.get("sec-fetch-site") == "cross-site", sent
        posted.clear()
        await patient.heading_is(REFUSED)
        assert status_of(clinic, appointment) == "booked", step

    # Still signed in, the appointment still offered for change.
    await patient.open(clinic.url("/appointments"), "appointments-untouched")
    await expect(
        page.get_by_role("link", name=re.compile("^Cancel the appointment"))
    ).to_be_visible()

    # Control: the request the office's own page sends (Origin: null, same-origin fetch, the
    # token) does cancel it, so the refusals above were for the token and origin alone.
    response = await post_as_browser(
        page, site, clinic, cancel, headers=null_same_origin, form={"idem": "own", "csrf": csrf}
    )
    checks.check_api_response(response)
    assert response.status == 303
    assert response.headers["location"] == "/appointments?notice=cancelled"
    assert status_of(clinic, appointment) == "cancelled"

    report = checks.report()
    assert not report, report


async def test_a_session_cookie_is_worthless_at_another_office(
    site: PortalSite, patient: Patient, checks: PageChecks
) -> None:
    clinic, other = site.clinic, site.other
    assert other is not None
    booked_appointment(clinic)
    await signed_in_canary(clinic, patient)
    page = patient.page
    [session] = [
        c for c in await page.context.cookies(clinic.origin) if c["name"] == "__Host-portico"
    ]
    # A __Host- cookie has no Domain: the browser never sends it to a sibling subdomain.
    assert "__Host-portico" not in [c["name"] for c in await page.context.cookies(other.origin)]

    # Copied there anyway (by an attacker who stole it, or a patient of both offices).
    await page.context.add_cookies([{**session, "domain": other.host.split(":")[0]}])
    assert session["value"] in [c["value"] for c in await page.context.cookies(other.origin)]
    await patient.open(other.url("/appointments"), "other-office-with-copied-cookie")
    assert page.url == other.url("/sign-in?notice=expired")
    await expect(page.get_by_role("banner")).to_contain_text(other.name)
    await patient.heading_is("Sign in to your patient portal")
    assert CANARY_FIRST not in await page.content()
    # The other office's proxy pages cleared the useless cookie.
    assert session["value"] not in [c["value"] for c in await page.context.cookies(other.origin)]

    # At its own office the session still works.
    await patient.open(clinic.url("/appointments"), "own-office-still-signed-in")
    await patient.heading_is("My appointments")
    await patient.sees("Wednesday, November 25, 2026 at 9:00 AM")

    report = checks.report()
    assert not report, report


MALFORMED_HOSTS = [
    "example-clinic.localhost:99999",
    "example-clinic.localhost:abc",
    "example-clinic.localhost:",
    "example_clinic.localhost",
    "-example-clinic.localhost",
    "example-clinic..localhost",
    "a.example-clinic.localhost",
    "example-clinic.localhost.evil.example",
    "example-clinic.localhost@evil.example",
    "[::1]",
    "127.0.0.1",
    "localhost",
    "exa mple.localhost",
    "x" * 300 + ".localhost",
]


async def test_unknown_office_and_malformed_host_get_the_plain_404(
    site: PortalSite, patient: Patient, checks: PageChecks
) -> None:
    page = patient.page
    response = await patient.open(f"http://{site.host('nobody-here')}/", "unknown-office")
    assert response is not None and response.status == 404
    plain = await response.body()
    await expect(page).to_have_title("Not found")
    await patient.heading_is("Not found")
    await expect(page.locator("body")).to_contain_text("There is no page at this address.")
    await expect(page.get_by_role("link")).to_have_count(0)
    for office in (site.clinic, site.other):
        assert office is not None and office.name.encode() not in plain

    # Every path, a reserved name, and an IP literal: the very same bytes.
    for url, step in [
        (f"http://{site.host('nobody-here')}/appointments?x=1", "unknown-office-path"),
        (f"http://{site.host('www')}/sign-in", "reserved-name"),
        (f"http://127.0.0.1:{site.port}/", "ip-literal"),
    ]:
        response = await patient.open(url, step)
        assert response is not None and response.status == 404, url
        assert await response.body() == plain, url

    # Host headers no browser would send, but anyone can.
    for host in MALFORMED_HOSTS:
        response = await page.request.get(site.loopback + "/sign-in", headers={"Host": host})
        checks.check_api_response(response)
        assert response.status == 404, host
        assert await response.body() == plain, host

    # Unlike an office's own "not found" page, which has its name, phone and a way back.
    response = await patient.open(site.clinic.url("/no-such-page"), "office-own-404")
    assert response is not None and response.status == 404
    await patient.heading_is("Page not found")
    await expect(page.get_by_role("banner")).to_contain_text(site.clinic.name)

    report = checks.report()
    assert not report, report
