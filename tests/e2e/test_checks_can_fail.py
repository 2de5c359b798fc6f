"""The checks the flow tests rely on can fail: axe finds a known violation, a response without
the security headers is reported, and so is a canary in a proxy log line. (A check that
cannot fail proves nothing.)"""

from __future__ import annotations

import json
from pathlib import Path

from playwright.async_api import Page

from tests.e2e.canary import CANARY_EMAIL, leaks_in_proxy_logs
from tests.e2e.page_checks import PageChecks, security_header_problems
from tests.support.logs import LogCapture

GOOD_HEADERS = {
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; frame-ancestors 'none'; object-src 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def test_header_check_accepts_the_required_headers_and_reports_each_gap() -> None:
    assert security_header_problems(GOOD_HEADERS) == []
    assert security_header_problems({k.lower(): v for k, v in GOOD_HEADERS.items()}) == []
    for name in GOOD_HEADERS:
        missing = {k: v for k, v in GOOD_HEADERS.items() if k != name}
        assert security_header_problems(missing), name
    for csp in (
        "default-src 'none'; object-src 'none'",  # no frame-ancestors
        "default-src 'none'; frame-ancestors 'none'; object-src 'self'",
        "default-src 'self' 'unsafe-inline'; frame-ancestors 'none'; object-src 'none'",
        "default-src 'none'; script-src 'self' 'unsafe-inline'; frame-ancestors 'none';"
        " object-src 'none'",
        "frame-ancestors 'none'; object-src 'none'",  # scripts from anywhere
    ):
        assert security_header_problems({**GOOD_HEADERS, "Content-Security-Policy": csp}), csp
    for bad in ("unsafe-url", "origin", "strict-origin-when-cross-origin", "same-origin"):
        assert security_header_problems({**GOOD_HEADERS, "Referrer-Policy": bad}), bad
    assert security_header_problems({**GOOD_HEADERS, "Cache-Control": "private, max-age=60"})


async def test_axe_reports_a_page_with_known_violations(page: Page, tmp_path: Path) -> None:
    checks = PageChecks(page, tmp_path / "artifacts", proxy_port=1)
    await page.set_content(
        '<html lang="en"><head><title>t</title></head><body><main><h1>Form</h1>'
        '<img src="/x.png"><input type="text" name="who"></main></body></html>'
    )
    await checks.step("known-violations")
    rules = {f.rule for f in checks.failing_axe()}
    assert {"image-alt", "label"} <= rules, rules
    report = checks.report()
    assert "[critical] image-alt" in report and 'name="who"' in report
    assert (tmp_path / "artifacts" / "01-known-violations.png").stat().st_size > 0


def _capture(*records: dict[str, str]) -> LogCapture:
    capture = LogCapture()
    access = {"logger": "portico.proxy.access", "event": "http.request", "route": "index"}
    capture.stream.write("".join(json.dumps(r) + "\n" for r in (access, *records)))
    return capture


def test_leak_check_finds_a_canary_in_proxy_lines_only() -> None:
    secrets = {"email": CANARY_EMAIL}
    not_the_proxy = [
        {"logger": "portico.agent", "event": "mail.queued", "to": CANARY_EMAIL},
        {"logger": "portico.link", "role": "responder", "event": "x", "peer": CANARY_EMAIL},
    ]
    assert leaks_in_proxy_logs(_capture(*not_the_proxy), secrets) == []
    for leaking in (
        {"logger": "portico.proxy", "event": "proxy.unhandled", "error": CANARY_EMAIL.upper()},
        {"logger": "aiohttp.server", "event": f"Error handling request {CANARY_EMAIL}"},
        {"logger": "portico.link", "role": "requester", "event": "x", "params": CANARY_EMAIL},
    ):
        assert len(leaks_in_proxy_logs(_capture(leaking), secrets)) == 1, leaking
    assert leaks_in_proxy_logs(LogCapture(), secrets) == [
        "the proxy logged no http.request line: is the log capture working?"
    ]
