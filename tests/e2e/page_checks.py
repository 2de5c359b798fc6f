"""What is checked on every page the browser visits, collected and reported at the end.

A flow test calls ``await checks.step("name")`` after each navigation: that saves a full-page
screenshot and runs axe-core on the page as it is. Meanwhile every response the browser gets
from the proxy is checked for the security headers, and console errors (a CSP refusal, say)
and uncaught page errors are noted. ``checks.report()`` lists everything found, so one failing
page does not hide the others; the test asserts it is empty at the very end.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from axe_playwright_python.async_playwright import Axe
from playwright.async_api import APIResponse, ConsoleMessage, Error, Page, Response

# axe impacts that fail a test; "minor" and "moderate" are reported, not failed.
FAILING_IMPACTS = frozenset({"serious", "critical"})

# DESIGN.md: no page address (they carry one-time tokens) goes anywhere, not even to this site.
REFERRER_POLICY = "no-referrer"

_AXE = Axe()


def csp_directives(policy: str) -> dict[str, list[str]]:
    directives: dict[str, list[str]] = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            directives.setdefault(words[0].lower(), [w.lower() for w in words[1:]])
    return directives


def security_header_problems(headers: dict[str, str]) -> list[str]:
    """What is missing or wrong in one response's headers (names in any case)."""
    h = {k.lower(): v for k, v in headers.items()}
    problems = []
    hsts = h.get("strict-transport-security", "")
    if not re.search(r"max-age=[1-9][0-9]*", hsts):
        problems.append(f"Strict-Transport-Security {hsts!r}")
    csp = csp_directives(h.get("content-security-policy", ""))
    if csp.get("frame-ancestors") != ["'none'"]:
        problems.append(f"CSP frame-ancestors {csp.get('frame-ancestors')}")
    if csp.get("object-src", csp.get("default-src")) != ["'none'"]:
        problems.append(f"CSP object-src {csp.get('object-src')}")
    # Scripts fall back to default-src when script-src (or its -elem/-attr parts) is absent.
    script_sources = [
        csp.get(name, csp.get("script-src", csp.get("default-src")))
        for name in ("script-src", "script-src-elem", "script-src-attr")
    ]
    if any(sources is None for sources in script_sources):
        problems.append("CSP sets neither script-src nor default-src")
    elif any("'unsafe-inline'" in sources for sources in script_sources if sources):
        problems.append("CSP allows 'unsafe-inline' scripts")
    if h.get("x-content-type-options", "").lower() != "nosniff":
        problems.append(f"X-Content-Type-Options {h.get('x-content-type-options')!r}")
    if h.get("referrer-policy", "").lower() != REFERRER_POLICY:
        problems.append(f"Referrer-Policy {h.get('referrer-policy')!r}")
    cache = [d.strip().lower() for d in h.get("cache-control", "").split(",")]
    if "no-store" not in cache:
        problems.append(f"Cache-Control {h.get('cache-control')!r}")
    return problems


def _shown(url: str) -> str:
    """A URL for the report, with one-time tokens cut short."""
    return re.sub(r"(token=)([^&]{6})[^&]*", r"\1\2...", url)


@dataclass
class AxeFinding:
    step: str
    url: str
    rule: str
    impact: str
    help: str
    help_url: str
    nodes: list[dict[str, Any]]

    def describe(self) -> str:
        lines = [f"[{self.impact}] {self.rule} on {self.step} ({_shown(self.url)}): {self.help}"]
        lines.append(f"    {self.help_url}")
        for node in self.nodes:
            lines.append(f"    target {', '.join(map(str, node.get('target', [])))}")
            lines.append(f"      html: {node.get('html', '').strip()}")
            summary = (node.get("failureSummary") or "").replace("\n", " / ")
            if summary:
                lines.append(f"      why:  {summary}")
        return "\n".join(lines)


@dataclass
class PageChecks:
    page: Page
    artifacts: Path
    proxy_port: int
    steps: list[str] = field(default_factory=list)
    responses_checked: int = 0
    header_problems: list[str] = field(default_factory=list)
    layout_problems: list[str] = field(default_factory=list)
    axe_findings: list[AxeFinding] = field(default_factory=list)
    browser_errors: list[str] = field(default_factory=list)
    # Every document the main frame showed (url, status), and which of them were checked.
    documents: list[tuple[str, int]] = field(default_factory=list)
    checked_documents: set[int] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.artifacts.mkdir(parents=True, exist_ok=True)
        for old in self.artifacts.glob("*"):
            old.unlink()
        self.page.on("response", self._on_response)
        self.page.on("console", self._on_console)
        self.page.on("pageerror", self._on_page_error)

    # -- what the browser receives -------------------------------------------------------------

    def from_proxy(self, url: str) -> bool:
        return urlsplit(url).port == self.proxy_port

    def _on_response(self, response: Response) -> None:
        if not self.from_proxy(response.url):
            return
        self.check_headers(response.url, response.status, response.headers)
        request = response.request
        if (
            request.resource_type == "document"
            and request.frame == self.page.main_frame
            and not 300 <= response.status < 400
        ):
            self.documents.append((response.url, response.status))

    def check_headers(self, url: str, status: int, headers: dict[str, str]) -> None:
        self.responses_checked += 1
        for problem in security_header_problems(headers):
            self.header_problems.append(f"{status} {_shown(url)}: {problem}")

    def check_api_response(self, response: APIResponse) -> None:
        """A response to page.request (no page event sees those)."""
        self.check_headers(response.url, response.status, response.headers)

    def _on_console(self, message: ConsoleMessage) -> None:
        # Only what points at the page itself: a 4xx page's own status also shows up as
        # "Failed to load resource", which is expected of error pages.
        text = message.text
        if message.type == "error" and "Failed to load resource" not in text:
            self.browser_errors.append(f"console on {_shown(self.page.url)}: {text}")

    def _on_page_error(self, error: Error) -> None:
        self.browser_errors.append(f"page error on {_shown(self.page.url)}: {error}")

    # -- each step -----------------------------------------------------------------------------

    async def step(self, name: str) -> None:
        """The page as the patient sees it now: a full-page screenshot and an axe run."""
        await self.page.wait_for_load_state("load")
        self.steps.append(name)
        number = len(self.steps)
        await self.page.screenshot(path=self.artifacts / f"{number:02d}-{name}.png", full_page=True)
        await self._check_layout(f"{number:02d}-{name}")
        results = await _AXE.run(self.page)
        for violation in results.response["violations"]:
            self.axe_findings.append(
                AxeFinding(
                    step=f"{number:02d}-{name}",
                    url=self.page.url,
                    rule=violation["id"],
                    impact=violation.get("impact") or "unknown",
                    help=violation["help"],
                    help_url=violation["helpUrl"],
                    nodes=violation["nodes"],
                )
            )
        if self.documents and self.documents[-1][0] == self.page.url:
            self.checked_documents.add(len(self.documents) - 1)

    async def _check_layout(self, step: str) -> None:
        """Laid out for this screen: as wide as the viewport (a page without
        `<meta name="viewport">` is laid out 980px wide on a phone and shown shrunk), and no
        sideways scrolling (WCAG 1.4.10, reflow)."""
        viewport = self.page.viewport_size
        if viewport is None:
            return
        layout = await self.page.evaluate(
            "() => [document.documentElement.clientWidth, document.documentElement.scrollWidth]"
        )
        width, scrolled = int(layout[0]), int(layout[1])
        where = f"{step} ({_shown(self.page.url)})"
        if width != viewport["width"]:
            self.layout_problems.append(
                f"{where}: laid out {width}px wide on a {viewport['width']}px screen"
                " (no <meta name=viewport>?)"
            )
        if scrolled > width:
            self.layout_problems.append(f"{where}: scrolls sideways ({scrolled}px > {width}px)")

    # -- the verdict ---------------------------------------------------------------------------

    def failing_axe(self) -> list[AxeFinding]:
        return [f for f in self.axe_findings if f.impact in FAILING_IMPACTS]

    def report(self, extra: list[str] | None = None) -> str:
        """Everything that fails the test, readable; empty when all is well. Also written,
        with the non-failing axe findings, to report.txt beside the screenshots."""
        sections: list[tuple[str, list[str]]] = [
            (
                "axe-core violations (serious/critical)",
                [f.describe() for f in self.failing_axe()],
            ),
            ("missing or wrong security headers", self.header_problems),
            ("not laid out for the screen", self.layout_problems),
            ("browser console / page errors", self.browser_errors),
            (
                "pages visited but never checked (screenshot + axe)",
                [
                    f"{status} {_shown(url)}"
                    for i, (url, status) in enumerate(self.documents)
                    if i not in self.checked_documents
                ],
            ),
            ("other problems", extra or []),
        ]
        failing = "\n\n".join(
            f"== {title} ({len(items)})\n" + "\n".join(items) for title, items in sections if items
        )
        info = [f.describe() for f in self.axe_findings if f.impact not in FAILING_IMPACTS]
        summary = (
            f"{len(self.steps)} pages checked, {self.responses_checked} proxy responses checked"
        )
        text = summary + "\n\n" + (failing or "no failures")
        if info:
            text += "\n\n== axe-core findings that do not fail the test\n" + "\n".join(info)
        (self.artifacts / "report.txt").write_text(text + "\n")
        (self.artifacts / "axe.json").write_text(
            json.dumps([f.__dict__ for f in self.axe_findings], indent=1, default=str)
        )
        return failing and f"{summary}\n\n{failing}"
