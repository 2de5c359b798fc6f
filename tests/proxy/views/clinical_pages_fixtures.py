"""Shared pieces of the messages, forms and records page tests.

`Browser.submit` (tests/proxy/portal.py) knows text inputs and radios; the office's forms also
have checkboxes and text areas, so `fill_in` reads a form the way a browser sends it: checked
boxes only, each checked box once, text areas' contents, and the button pressed.
"""

from __future__ import annotations

import html.parser
from typing import Any

from tests.proxy.portal import Browser, Page, Portal

# Planted in bodies, answers and records: it must come out as text, never as a tag.
SCRIPT = "<script>alert(1)</script>"
ESCAPED_SCRIPT = "&lt;script&gt;alert(1)&lt;/script&gt;"


class _FormReader(html.parser.HTMLParser):
    """The name/value pairs one form would send, before the person changes anything."""

    def __init__(self, action: str) -> None:
        super().__init__()
        self.action = action
        self.pairs: list[tuple[str, str]] = []
        self.found = 0
        self._inside = False
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._inside = a.get("action", "").split("?")[0] == self.action
            self.found += self._inside
        elif not self._inside or "name" not in a:
            return
        elif tag == "input" and a.get("type") in ("radio", "checkbox"):
            if "checked" in a:
                self.pairs.append((a["name"], a.get("value", "on")))
        elif tag == "input" and a.get("type") not in ("submit", "button"):
            self.pairs.append((a["name"], a.get("value", "")))
        elif tag == "textarea":
            self._textarea, self._text = a["name"], []

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._inside = False
        elif tag == "textarea" and self._textarea is not None:
            # The parser drops the newline right after <textarea>, as browsers do.
            self.pairs.append((self._textarea, "".join(self._text).removeprefix("\n")))
            self._textarea = None


def form_pairs(page: Page, action: str) -> list[tuple[str, str]]:
    reader = _FormReader(action)
    reader.feed(page.text)
    assert reader.found == 1, f"{reader.found} forms for {action} on {page.url}"
    return reader.pairs


async def fill_in(
    browser: Browser, page: Page, action: str, button: tuple[str, str] | None = None, **typed: Any
) -> Page:
    """Send the form on `page` that posts to `action`, with `typed` replacing what the page
    had: a string for a box or a radio group, a list for checkboxes (the ones to tick)."""
    pairs = [(k, v) for k, v in form_pairs(page, action) if k not in typed]
    for name, value in typed.items():
        values = value if isinstance(value, list) else [value]
        pairs.extend((name, v) for v in values)
    if button is not None:
        pairs.append(button)
    return await browser.request("POST", action, data=pairs)  # type: ignore[arg-type]


def audit_actions(site: Portal, patient: int) -> list[str]:
    rows = site.query(
        "SELECT action FROM portal_audit WHERE patient_id = %s ORDER BY id", (patient,)
    )
    return [str(r["action"]) for r in rows]


def nav_messages_link(page: Page) -> str:
    """The header's Messages link as a person reads it: "Messages (2 unread)"."""
    header = page.text.split("</nav>")[0]
    start = header.index('href="/messages"')
    text = header[header.index(">", start) + 1 : header.index("</a>", start)]
    return text.strip()


def plant_record(site: Portal, patient: int, *, label: str = "") -> None:
    """One entry of each kind in `patient`'s chart, as the practice system writes them;
    `label` goes into every name, so a test can tell one patient's entries from another's."""
    rows = [
        "INSERT INTO patient_allergies (patient_id, substance, category, reaction, severity,"
        " noted_on) VALUES (%s, %s, 'medication', 'Hives', 'severe', '2020-02-03')",
        "INSERT INTO patient_medications (patient_id, name, dosage, started_on, prescriber_id)"
        " VALUES (%s, %s, '1 tablet by mouth once daily', '2024-01-05', 1)",
        "INSERT INTO patient_problems (patient_id, description, status, onset_on)"
        " VALUES (%s, %s, 'active', '2019-06-01')",
        "INSERT INTO encounters (patient_id, provider_id, started_at, reason, summary)"
        " VALUES (%s, 1, '2026-10-01 14:00:00', %s, 'Blood pressure good.\nRecheck in 3 months.')",
        "INSERT INTO lab_results (patient_id, test_name, value, unit, reference_range, flag,"
        " collected_at) VALUES (%s, %s, '6.1', 'mmol/L', '3.9-5.5', 'high', '2026-10-01 15:00:00')",
    ]
    names = ["Penicillin", "Lisinopril 10 mg tablet", "High blood pressure", "Check-up", "Glucose"]
    for sql, name in zip(rows, names, strict=True):
        site.office.execute(sql, (patient, f"{name}{label}"))
