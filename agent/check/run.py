"""``portico-agent check``: is this server ready to run the agent? One line per item.

Items, in order: the config file (its warnings too), the files it names (readable by the
service's user), the link key and certificate (with the pin to send the portal operator), the
link port (in dial_out mode instead: each portal endpoint reached with the keys pinned both
ways, and nothing listening on port 1234, agent/check/portal.py), the metrics port, the
database (reachable as the configured user, schema current, grants no wider than needed;
with practice.system openemr also which OpenEMR it is and its time zone,
agent/check/openemr.py), mail, the time zone, and the clock. Each says OK, WARN or FAIL and,
when not OK, what to do. Items that depend on a failed one say "not checked". Exit status:
0 when nothing failed (warnings allowed), 1 otherwise, 2 when the config file cannot be read at all.

The check only reads: it sends no mail, changes no table, and the link port is bound for an
instant and released (the metrics port too); a portal endpoint is only sent a TLS handshake.
"""

from __future__ import annotations

import ssl
import sys
import zoneinfo
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from agent.check.database import check_database
from agent.check.files import check_files, service_user
from agent.check.network import check_listen_port, check_mail, check_metrics_port
from agent.check.openemr import check_openemr_database
from agent.check.portal import LINK_PORT, check_no_listener, check_portal
from agent.clock import Clock, SystemClock
from agent.config import AgentConfig, ConfigInvalid, config_warnings, parse_config
from agent.config_report import with_lines
from protocol.service.check_report import (
    CheckResult,
    exit_status,
    fail,
    format_result,
    format_totals,
    ok,
    warn,
)
from protocol.tls import server_config

CLOCK_TOLERANCE_SECONDS = 60.0
_SET_CLOCK = (
    "set the clock and keep it synchronised: `timedatectl set-ntp true` on Linux; on macOS "
    "System Settings > General > Date & Time > Set time automatically"
)


def run_check(
    path: Path,
    *,
    out: TextIO | None = None,
    clock: Clock | None = None,
    timeout: float = 3.0,
    smtp_tls_context: ssl.SSLContext | None = None,
    as_user: str | None = None,
    no_listener_port: int = LINK_PORT,
) -> int:
    """The whole command; prints as it goes, so a slow item shows which one it is.

    ``timeout`` bounds the probe of a busy link port; the database and the mail relay use the
    config's own timeouts, as the daemon does. ``smtp_tls_context`` is for tests (a relay with
    a private certificate); the daemon and this check otherwise trust the system's CAs.
    ``as_user``: whom to test the files as (default: the service's user, see
    agent/check/files.py). ``no_listener_port``: the port that must be closed in dial_out mode
    (1234; tests use a port of their own)."""
    out = out or sys.stdout
    clock = clock or SystemClock()
    results: list[CheckResult] = []

    def report(result: CheckResult) -> None:
        results.append(result)
        print(format_result(result), file=out, flush=True)

    try:
        raw = path.read_bytes()
    except OSError as exc:
        report(fail("config", f"cannot read {path}: {exc.strerror or exc}"))
        return 2
    result, config = check_config(path, raw)
    report(result)
    if config is None:
        print("cannot check the rest without a valid config", file=out)
        return exit_status(results)
    report(check_files(path, config, as_user or service_user()))
    key, own_pin = check_link_key(config)
    report(key)
    if config.link.mode == "dial_out":
        for endpoint in config.link.portal or ():
            report(check_portal(config, endpoint, own_pin, timeout=timeout))
        report(check_no_listener(port=no_listener_port, timeout=timeout))
    else:
        report(check_listen_port(config, own_pin, timeout=timeout))
    report(check_metrics_port(config, timeout=timeout))
    if config.practice.system == "openemr":
        database = check_openemr_database(config, str(path), clock)
    else:
        database = check_database(config, str(path), clock)
    for result in database.results:
        report(result)
    report(check_mail(config.email, tls_context=smtp_tls_context))
    report(check_time_zone(config.practice.timezone, clock))
    report(check_clock(clock, database.clock_offset))
    print(format_totals(results), file=out)
    return exit_status(results)


def check_config(path: Path, raw: bytes) -> tuple[CheckResult, AgentConfig | None]:
    """The item, and the config when it is usable (warnings allowed)."""
    try:
        config = parse_config(raw)
    except ConfigInvalid as invalid:
        count = len(invalid.problems)
        invalid_file = fail(
            "config",
            f"{path}: {count} problem{'' if count == 1 else 's'}",
            details=[str(problem) for problem in invalid.problems],
            fix=("correct each one at its line (`portico-agent config validate` lists the same)",),
        )
        return invalid_file, None
    warnings = with_lines(config_warnings(config), raw.decode("utf-8-sig"))
    if not warnings:
        return ok("config", f"{path} is valid"), config
    count = len(warnings)
    with_warnings = warn(
        "config",
        f"{path} is valid, with {count} warning{'' if count == 1 else 's'}",
        details=[str(w) for w in warnings],
    )
    return with_warnings, config


def check_link_key(config: AgentConfig) -> tuple[CheckResult, str | None]:
    """The item, and this agent's pin when the pair is usable."""
    tls = config.tls
    try:
        identity = server_config(tls.key_file, tls.cert_file, tls.proxy_pins)
    except OSError as exc:
        unreadable = fail(
            "link key",
            f"cannot read {exc.filename}: {exc.strerror or exc}",
            fix=(
                f"`portico-agent init-keys {tls.key_file.parent}` creates key.pem and cert.pem; "
                "if they exist, see the files item for who may read them",
            ),
        )
        return unreadable, None
    except (ValueError, TypeError) as exc:
        unusable = fail(
            "link key",
            f"unusable key or certificate: {exc}",
            fix=(
                "point tls.key_file and tls.cert_file at the pair `portico-agent init-keys` wrote",
            ),
        )
        return unusable, None
    pin = identity.local_pin
    if tls.key_file.stat().st_mode & 0o007:
        loose = warn(
            "link key",
            f"{tls.key_file} may be read by every user of this server; pin: {pin}",
            fix=(f"chmod 640 {tls.key_file} (owner root, group portico)",),
        )
        return loose, pin
    return ok("link key", f"key and certificate readable; this agent's pin: {pin}"), pin


def check_time_zone(name: str, clock: Clock) -> CheckResult:
    try:
        zone = zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return fail(
            "time zone",
            f"{name} is not a time zone this server knows",
            fix=("install the time zone database (the tzdata package) or fix practice.timezone",),
        )
    local = clock.now().astimezone(zone)
    return ok("time zone", f"{name}: it is {local:%H:%M} {local.tzname()} there now")


def installed_at() -> datetime:
    """When this release's files were written: a clock earlier than that is surely wrong."""
    newest = max(p.stat().st_mtime for p in _release_files())
    return datetime.fromtimestamp(newest, UTC)


def _release_files() -> list[Path]:
    migrations = Path(__file__).parent / "db" / "migrations"
    return [Path(__file__), *migrations.glob("*.sql")]


def check_clock(clock: Clock, database_offset: float | None) -> CheckResult:
    now = clock.now()
    floor = installed_at()
    shown = f"{now:%Y-%m-%d %H:%M:%S} UTC"
    if now < floor:
        return fail(
            "clock",
            f"the clock says {shown}, before this Portico release was installed ({floor:%Y-%m-%d})",
            fix=(_SET_CLOCK,),
        )
    if database_offset is None:
        return ok("clock", f"{shown} (not compared with the database's: not reached)")
    if abs(database_offset) >= CLOCK_TOLERANCE_SECONDS:
        side = "ahead of" if database_offset > 0 else "behind"
        return fail(
            "clock",
            f"the database server's clock is {abs(database_offset):.0f} s {side} this one's",
            fix=(_SET_CLOCK + "; on both machines, if the database runs on another",),
        )
    return ok("clock", f"{shown}; {abs(database_offset):.1f} s from the database's clock")
