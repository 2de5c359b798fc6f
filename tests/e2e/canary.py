"""Canary patient data: planted in the practice database before a flow, and looked for in the
proxy's logs after it (DESIGN.md: the proxy's logs never carry PHI, tokens or passwords).

The values are unlike anything else in the test data, so finding one in a log line can only
mean it was copied there.
"""

from __future__ import annotations

import json

from tests.agent.access_fixtures import AccessPractice
from tests.support.logs import LogCapture

CANARY_FIRST = "Canaryfirst Zq9"
CANARY_LAST = "Canarylast Xv7"
CANARY_EMAIL = "canary.zq9xv7@example.org"
# 12-128 characters, not on the common-password list, unrelated to the patient's details.
CANARY_PASSWORD = "Zq9-orchid-pavement-4471"

# The proxy's own loggers, and aiohttp's (the proxy's web server). The link code's
# "portico.link" logger serves both sides; its lines say which ("role"), and the proxy is
# always the requester (so is the test's own staff link, which is no less bound by the rule).
PROXY_LOGGERS = ("portico.proxy", "aiohttp")
LINK_LOGGER = "portico.link"


def plant_canary(office: AccessPractice, patient: int = 1) -> None:
    office.execute(
        "UPDATE patients SET first_name = %s, last_name = %s, email = %s WHERE id = %s",
        (CANARY_FIRST, CANARY_LAST, CANARY_EMAIL, patient),
    )


def proxy_log_lines(logs: LogCapture) -> list[str]:
    lines = []
    for record in logs.records():
        logger = str(record.get("logger", ""))
        requester = logger == LINK_LOGGER and record.get("role") == "requester"
        if logger.startswith(PROXY_LOGGERS) or requester:
            lines.append(json.dumps(record, sort_keys=True))
    return lines


def leaks_in_proxy_logs(logs: LogCapture, secrets: dict[str, str]) -> list[str]:
    """Each proxy log line holding one of `secrets` (name -> value, compared ignoring case),
    or a complaint when the proxy logged nothing at all (then the check proves nothing)."""
    lines = proxy_log_lines(logs)
    if not any('"event": "http.request"' in line for line in lines):
        return ["the proxy logged no http.request line: is the log capture working?"]
    found = []
    for name, value in secrets.items():
        for line in lines:
            if value.casefold() in line.casefold():
                found.append(f"{name} ({value[:6]}...) in proxy log: {line[:300]}")
    return found
