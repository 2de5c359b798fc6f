"""A patient at the browser: opening pages, filling fields, pressing buttons, as a person does
(by the labels and names on the screen, never by CSS selectors), tapping on a phone.

Every action that loads a page ends with ``checks.step(...)``: screenshot, axe.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from playwright.async_api import Locator, Page, Response, expect

from tests.e2e.page_checks import PageChecks


@dataclass
class Patient:
    page: Page
    checks: PageChecks
    touch: bool  # a phone: tap instead of click

    async def open(self, url: str, step: str) -> Response | None:
        response = await self.page.goto(url)
        await self.checks.step(step)
        return response

    async def press(self, target: Locator, step: str) -> None:
        """Press a button or link that loads another page."""
        async with self.page.expect_navigation(wait_until="load"):
            if self.touch:
                await target.tap()
            else:
                await target.click()
        await self.checks.step(step)

    async def fill(self, label: str, value: str) -> None:
        await self.page.get_by_label(label, exact=True).fill(value)

    async def choose(self, name: str | re.Pattern[str]) -> None:
        radio = self.page.get_by_role("radio", name=name, exact=isinstance(name, str))
        if self.touch:
            await radio.tap()
        else:
            await radio.check()
        await expect(radio).to_be_checked()

    def button(self, name: str | re.Pattern[str]) -> Locator:
        return self.page.get_by_role("button", name=name, exact=isinstance(name, str))

    def link(self, name: str | re.Pattern[str], *, in_main: bool = True) -> Locator:
        scope = self.page.get_by_role("main") if in_main else self.page
        return scope.get_by_role("link", name=name, exact=isinstance(name, str))

    async def heading_is(self, text: str) -> None:
        await expect(self.page.get_by_role("heading", level=1)).to_have_text(text)

    async def sees(self, text: str | re.Pattern[str]) -> None:
        await expect(self.page.get_by_role("main")).to_contain_text(text)

    async def sign_in(self, login: str, password: str, *, notice: str | None = None) -> None:
        """On the sign-in page: sign in and land on My appointments."""
        await self.heading_is("Sign in to your patient portal")
        if notice is not None:
            await expect(self.page.get_by_role("status")).to_have_text(notice)
        await self.fill("Email address or username", login)
        await self.fill("Password", password)
        await self.press(self.button("Sign in"), "appointments")
        await self.heading_is("My appointments")

    async def book(self, *, kind: str, provider: str, day: str, time: str, label: str) -> str:
        """From My appointments through the five steps to "You're booked"; the booked page's
        address. `provider` is a provider's name or "No preference"."""
        await self.press(self.link("Book an appointment"), f"{label}-1-type")
        await self.sees("Step 1 of 5")
        await self.choose(re.compile(f"^{re.escape(kind)} "))
        await self.press(self.button("Next"), f"{label}-2-provider")
        await self.sees("Step 2 of 5")
        await self.choose(re.compile(f"^{re.escape(provider)}"))
        await self.press(self.button("Next"), f"{label}-3-day")
        await self.press(self.link(re.compile(f"^{re.escape(day)} ")), f"{label}-4-time")
        await self.sees(f"Choose a time on {day}")
        await self.choose(time)
        await self.press(self.button("Next"), f"{label}-5-confirm")
        await self.heading_is("Book an appointment")
        await self.sees(f"{day} at {time}")
        await self.press(self.button("Book this appointment"), f"{label}-6-booked")
        await self.heading_is("You're booked")
        await self.sees(f"{day} at {time}")
        return self.page.url
