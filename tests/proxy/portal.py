"""The patient portal under test: a real agent (FixedClock, SMTP relay) behind the real proxy app,
driven by a small browser stand-in that does what a browser does and no more.

The browser keeps its own cookies per site (aiohttp's test client would refuse to send the
`__Host-` Secure cookies back over the loopback's plain HTTP), sends the Host header of the
office's subdomain, sends `Origin` on POST like Chromium, follows redirects itself so every
Set-Cookie on the way is seen, and fills in forms the way a person would: it reads the form
from the page (hidden fields included) and changes only what the person types.
"""

from __future__ import annotations

import html.parser
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

from aiohttp import DummyCookieJar
from aiohttp.test_utils import TestClient, TestServer

from agent.db.pool import DatabaseSettings
from proxy.agents import AgentConnections
from proxy.app import create_app
from proxy.config import ProxyConfig
from tests.agent.access_fixtures import PASSWORD, AccessPractice, access_practice, email_of
from tests.proxy.agent_fixtures import SUBDOMAIN, ProxySetup
from tests.support.database import execute
from tests.support.practice import NOW

HOST = f"{SUBDOMAIN}.localhost:8080"
ORIGIN = f"http://{HOST}"
USER_AGENT = "Mozilla/5.0 (portal test)"


# -- pages and forms -------------------------------------------------------------------------


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)
    radios: dict[str, list[str]] = field(default_factory=dict)


class _FormParser(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self._current: Form | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._current = Form(a.get("action", ""), a.get("method", "get").lower())
            self.forms.append(self._current)
        elif tag == "input" and self._current is not None and "name" in a:
            if a.get("type") == "radio":
                self._current.radios.setdefault(a["name"], []).append(a.get("value", ""))
                if "checked" in a:
                    self._current.fields[a["name"]] = a.get("value", "")
            else:
                self._current.fields[a["name"]] = a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._current = None


@dataclass
class Page:
    url: str
    status: int
    headers: Any
    text: str
    set_cookies: list[str]

    def forms(self) -> list[Form]:
        parser = _FormParser()
        parser.feed(self.text)
        return parser.forms

    def form(self, action: str) -> Form:
        """The form posting (or getting) to `action` (its path, without a query)."""
        found = [f for f in self.forms() if f.action.split("?")[0] == action]
        assert len(found) == 1, f"{len(found)} forms for {action} on {self.url}"
        return found[0]

    def links(self, pattern: str = "") -> list[str]:
        hrefs = [html.unescape(h) for h in re.findall(r'href="([^"]*)"', self.text)]
        return [h for h in hrefs if re.search(pattern, h)]

    @property
    def visible_text(self) -> str:
        """The text a person reads: tags out, whitespace squeezed, entities decoded."""
        body = re.sub(r"<[^>]+>", " ", self.text)
        return re.sub(r"\s+", " ", html.unescape(body)).strip()


class Browser:
    def __init__(self, client: TestClient[Any, Any], host: str = HOST) -> None:
        self.client = client
        self.host = host
        self.cookies: dict[str, str] = {}
        self.history: list[Page] = []

    @property
    def origin(self) -> str:
        return f"http://{self.host}"

    async def request(
        self,
        method: str,
        url: str,
        *,
        data: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        follow: bool = True,
    ) -> Page:
        sent = {"Host": self.host, "User-Agent": USER_AGENT}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if method == "POST":
            sent["Origin"] = self.origin
        sent.update(headers or {})
        sent = {k: v for k, v in sent.items() if v is not None}
        async with self.client.request(
            method, url, data=data, headers=sent, allow_redirects=False
        ) as response:
            page = Page(
                url,
                response.status,
                response.headers,
                await response.text(),
                response.headers.getall("Set-Cookie", []),
            )
        self._remember(page.set_cookies)
        self.history.append(page)
        location = page.headers.get("Location")
        if follow and page.status in (301, 302, 303, 307, 308) and location:
            assert urlsplit(location).netloc in ("", self.host), location
            return await self.get(urljoin(url, location))
        return page

    def _remember(self, headers: list[str]) -> None:
        for header in headers:
            cookie = SimpleCookie()
            cookie.load(header)
            for name, morsel in cookie.items():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value

    async def get(self, url: str, **kwargs: Any) -> Page:
        return await self.request("GET", url, **kwargs)

    async def post(self, url: str, data: dict[str, str], **kwargs: Any) -> Page:
        return await self.request("POST", url, data=data, **kwargs)

    async def submit(self, page: Page, action: str, **typed: str) -> Page:
        """Fill in the form on `page` that goes to `action` and send it."""
        form = page.form(action)
        values = {**form.fields, **typed}
        if form.method == "post":
            return await self.post(form.action, values)
        query = urlencode({k: v for k, v in values.items() if v != ""})
        return await self.get(f"{form.action}?{query}" if query else form.action)


# -- the portal ------------------------------------------------------------------------------


class FailingAgents(AgentConnections):
    """A fault no real input causes: the call for the appointments list blows up inside the
    proxy, with patient data in the exception's message (which must go nowhere)."""

    async def request(self, tenant: str, method: str, params: Any, **kwargs: Any) -> Any:
        if method == "appointments.list":
            raise RuntimeError("boom: Canary Patient 1970-01-01 pat1@example.org")
        return await super().request(tenant, method, params, **kwargs)


@dataclass
class Portal:
    office: AccessPractice
    config: ProxyConfig
    client: TestClient[Any, Any]
    agents: AgentConnections

    def browser(self, host: str = HOST) -> Browser:
        return Browser(self.client, host)

    def query(self, sql: str, args: Any = ()) -> list[dict[str, Any]]:
        return self.office.query(sql, args)

    def add_appointment(
        self, patient: int, provider: int, type_id: int, start: datetime, minutes: int
    ) -> int:
        """An appointment the office booked (rows as the practice system writes them)."""
        execute(
            self.office.settings,
            "INSERT INTO appointments (patient_id, provider_id, appointment_type_id, starts_at,"
            " ends_at, status, source) VALUES (%s, %s, %s, %s, %s, 'booked', 'office')",
            (
                patient,
                provider,
                type_id,
                start.replace(tzinfo=None),
                start.replace(tzinfo=None) + timedelta(minutes=minutes),
            ),
        )
        return int(self.query("SELECT MAX(id) AS id FROM appointments")[0]["id"])

    async def signed_in(self, patient: int = 1, password: str | None = None) -> Browser:
        """A browser that signed in through the sign-in page as `patient`."""
        await self.office.set_password(patient, password or PASSWORD)
        browser = self.browser()
        page = await browser.get("/sign-in")
        page = await browser.submit(
            page, "/sign-in", login=email_of(patient), password=password or PASSWORD
        )
        assert page.url == "/appointments", (page.status, page.visible_text)
        return browser


def proxy_config(setup: ProxySetup, agent_port: int, **overrides: Any) -> ProxyConfig:
    data = setup.data({SUBDOMAIN: setup.tenant("127.0.0.1", agent_port)})
    data.update(overrides)
    return ProxyConfig.model_validate(data)


@asynccontextmanager
async def serve_proxy(
    config: ProxyConfig, agents: AgentConnections | None = None
) -> AsyncIterator[TestClient[Any, Any]]:
    """The proxy app on a loopback port, with a client whose cookie jar stays empty."""
    app = create_app(config, agents=agents)
    server = TestServer(app)
    async with TestClient(server, cookie_jar=DummyCookieJar()) as client:
        yield client


@asynccontextmanager
async def portal(
    settings: DatabaseSettings,
    keys: Path,
    directory: Path,
    *,
    access: dict[str, Any] | None = None,
    booking: dict[str, Any] | None = None,
    messages: dict[str, Any] | None = None,
    now: datetime = NOW,
    **proxy: Any,
) -> AsyncIterator[Portal]:
    async with access_practice(
        settings, keys, access=access, booking=booking, messages=messages, now=now
    ) as office:
        config = proxy_config(ProxySetup(keys, directory), office.agent.server.port, **proxy)
        agents = AgentConnections(config, requester_id="pages-test")
        try:
            async with serve_proxy(config, agents) as client:
                yield Portal(office, config, client, agents)
        finally:
            await agents.close()
