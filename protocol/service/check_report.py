"""The lines ``portico-agent check`` and ``portico-proxy check`` print: one per item, with its
status and, on trouble, the fix in plain words.

::

    OK    database     portico@localhost reaches 127.0.0.1:3306, database practice (MariaDB 10.11)
    FAIL  schema       2 of 6 migrations not applied: 0005_clinical, 0006_portal_messages
                       fix: run `portico-agent migrate --config /etc/portico/agent.yaml` as the
                       database administrator (docs/install.md, step 5)

The item column is :data:`ITEM_WIDTH` wide unless a program passes a wider one (the proxy
widens it for long office names); what each program checks, and anything it prints after the
totals, stays with the program.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

ITEM_WIDTH = 12


class Status(enum.Enum):
    OK = "OK"
    WARN = "WARN"
    FAIL = "FAIL"
    SKIP = "SKIP"
    """Not checked, because something it depends on failed (that item says why)."""


@dataclass(frozen=True)
class CheckResult:
    status: Status
    item: str
    summary: str
    details: tuple[str, ...] = ()
    """One line each under the summary (every config problem, every excess grant)."""
    fix: tuple[str, ...] = ()
    """What to do; the first line is prose, any further ones are commands to copy."""


def ok(item: str, summary: str, *details: str) -> CheckResult:
    return CheckResult(Status.OK, item, summary, details)


def warn(
    item: str, summary: str, *, details: Iterable[str] = (), fix: Iterable[str] = ()
) -> CheckResult:
    return CheckResult(Status.WARN, item, summary, tuple(details), tuple(fix))


def fail(
    item: str, summary: str, *, details: Iterable[str] = (), fix: Iterable[str] = ()
) -> CheckResult:
    return CheckResult(Status.FAIL, item, summary, tuple(details), tuple(fix))


def skip(item: str, because: str) -> CheckResult:
    return CheckResult(Status.SKIP, item, f"not checked: {because}")


def format_result(result: CheckResult, width: int = ITEM_WIDTH) -> str:
    """The item's lines; details and fixes are indented under the summary's column."""
    indent = " " * (6 + width + 1)
    lines = [f"{result.status.value:<4}  {result.item:<{width}} {result.summary}"]
    lines += [f"{indent}  {detail}" for detail in result.details]
    if result.fix:
        first, *commands = result.fix
        lines.append(f"{indent}fix: {first}")
        lines += [f"{indent}  {command}" for command in commands]
    return "\n".join(lines)


def format_totals(results: Iterable[CheckResult]) -> str:
    counts = {status: 0 for status in Status}
    for result in results:
        counts[result.status] += 1
    parts = [f"{counts[Status.OK]} OK"]
    if counts[Status.WARN]:
        parts.append(f"{counts[Status.WARN]} WARN")
    if counts[Status.FAIL]:
        parts.append(f"{counts[Status.FAIL]} FAIL")
    if counts[Status.SKIP]:
        parts.append(f"{counts[Status.SKIP]} not checked")
    return ", ".join(parts)


def exit_status(results: Iterable[CheckResult]) -> int:
    """0 only when nothing failed (warnings allowed), else 1."""
    return 1 if any(r.status is Status.FAIL for r in results) else 0
