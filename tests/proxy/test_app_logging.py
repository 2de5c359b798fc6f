"""One access-log line per request, naming the route (never the path, the query, a cookie or a
form field), and no patient data anywhere in what the proxy logs."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from agent.db.pool import DatabaseSettings
from tests.agent.access_fixtures import PASSWORD, email_of
from tests.proxy.portal import portal
from tests.support.logs import LogCapture
from tests.support.practice import DR_ADAMS, FOLLOW_UP


async def test_access_log_names_routes_and_carries_no_secrets(
    practice_db: DatabaseSettings, link_keys: Path, tmp_path: Path, logs: LogCapture
) -> None:
    async with portal(practice_db, link_keys, tmp_path) as site:
        appointment = site.add_appointment(
            1, DR_ADAMS, FOLLOW_UP, datetime(2026, 11, 25, 15, 0, tzinfo=UTC), 30
        )
        token = "CanaryToken" + "x" * 32
        browser = site.browser()
        await browser.get(f"/reset?token={token}")
        await browser.get("/sign-in?notice=expired")
        await site.office.set_password(1, PASSWORD)
        signed_in = await site.signed_in(1)
        await signed_in.get(f"/appointments/{appointment}/cancel")
        await site.browser("nobody.localhost").get("/secret-path?q=CanaryQuery")
        page = await browser.get("/forgot")
        await browser.submit(page, "/forgot", login="canary.patient@example.org")

        lines = logs.records("http.request")
        routes = [(r["method"], r["route"], r["status"]) for r in lines]
        assert ("GET", "reset_page", 404) in routes  # no such link: said at once
        assert ("POST", "sign_in", 303) in routes
        assert ("GET", "cancel_page", 200) in routes
        assert ("GET", "unmatched", 404) in routes
        assert ("POST", "forgot", 200) in routes
        for line in lines:
            assert set(line) == {
                "event", "tenant", "method", "route", "status", "duration_ms", "level", "logger",
                "ts",
            }  # fmt: skip
            assert line["tenant"] in ("example-clinic", None)

        proxy_lines = [
            r for r in logs.records() if str(r.get("logger", "")).startswith("portico.proxy")
        ]
        everything = "\n".join(str(r) for r in proxy_lines)
        session = signed_in.cookies["__Host-portico"]
        for secret in (
            token,
            "CanaryQuery",
            "canary.patient",
            email_of(1),
            PASSWORD,
            session,
            "Wednesday",
        ):
            assert secret not in everything
        assert f"/appointments/{appointment}" not in everything
