"""What the office puts in the portal for the browser tests of messages, forms and records
(issue 6), and the verdict every one of those tests ends with.

Content is written the way staff write it (tests/agent/*/seeding.py: the CLI's own checks and
writers), for the canary patient of tests/e2e/canary.py. Each test plants its own canary
strings in the PHI it shows (message bodies, form answers, record entries), sees them on the
page (so they did pass through the proxy), and at the end looks for them in the proxy's logs.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from playwright.async_api import APIResponse, Locator, Page

from tests.agent.messages.seeding import send_office_message
from tests.e2e.canary import (
    CANARY_EMAIL,
    CANARY_FIRST,
    CANARY_LAST,
    CANARY_PASSWORD,
    leaks_in_proxy_logs,
)
from tests.e2e.page_checks import PageChecks
from tests.e2e.portal_site import PortalSite, Tenant
from tests.support.logs import LogCapture

CANARY_PATIENT = 1  # tests/e2e/canary.plant_canary's default
SESSION_COOKIE = "__Host-portico"

# The canary patient's own details, looked for in every test's logs.
PATIENT_SECRETS = {
    "first name": CANARY_FIRST,
    "last name": CANARY_LAST,
    "email": CANARY_EMAIL,
    "password": CANARY_PASSWORD,
}


def office_message(
    tenant: Tenant,
    subject: str,
    body: str,
    attachments: Sequence[tuple[str, bytes]] = (),
    *,
    patient: int = CANARY_PATIENT,
) -> int:
    """`portico-agent messages send` to `patient`, at the office's clock time, with the notice
    email linking to this portal; the thread's id."""
    office = tenant.office
    return send_office_message(
        office.settings,
        patient,
        subject,
        body,
        attachments,
        now=office.clock.now(),
        portal_url=tenant.origin,
    )


def messages_link(page: Page) -> Locator:
    """The header's Messages link, which carries the unread count: "Messages (2 unread)"."""
    menu = page.get_by_role("navigation", name="Main menu")
    return menu.get_by_role("link", name=re.compile(r"^Messages\b"))


async def session_token(page: Page, tenant: Tenant) -> str:
    cookies = await page.context.cookies(tenant.origin)
    return next(c["value"] for c in cookies if c["name"] == SESSION_COOKIE)


async def download_headers_checked(
    page: Page, checks: PageChecks, site: PortalSite, tenant: Tenant, path: str
) -> APIResponse:
    """A download fetched again, its headers checked like every page's.

    The browser hands a download to its download manager, and Playwright reports no
    `response` event for it, so PageChecks never sees those headers. The same request goes
    through the context's request API instead: Node cannot resolve *.localhost, so it goes to
    127.0.0.1 with the office's Host header and the browser's cookies."""
    cookies = await page.context.cookies(tenant.origin)
    response = await page.request.get(
        site.loopback + path,
        headers={
            "Host": tenant.host,
            "Cookie": "; ".join(f"{c['name']}={c['value']}" for c in cookies),
        },
        max_redirects=0,
    )
    checks.check_api_response(response)
    assert response.status == 200, f"{path}: {response.status}"
    assert response.headers["content-disposition"].startswith("attachment;")
    return response


async def assert_clean(
    checks: PageChecks,
    logs: LogCapture,
    page: Page,
    tenant: Tenant,
    canaries: dict[str, str],
    problems: list[str] | None = None,
) -> None:
    """The end of every test: each page checked (axe, headers, phone layout) was clean, the
    proxy logged none of the patient's details, the session token or `canaries`, and the
    test noted no `problems` on the way (kept to the end so that one does not hide others)."""
    secrets = {
        **PATIENT_SECRETS,
        **canaries,
        "session token": await session_token(page, tenant),
    }
    report = checks.report([*leaks_in_proxy_logs(logs, secrets), *(problems or [])])
    assert not report, report
