"""The least-privilege rights of an agent on an OpenEMR practice (``practice.system: openemr``),
the GRANT statements that give them, and the judgement of rights beyond them. Pure functions.

In OpenEMR's database (``database.name``), Portico

- reads (SELECT) exactly the tables of :class:`agent.openemr.store.tables.Tables` but ``pnotes``:
  the calendar, its categories and globals, providers (``users``), ``facility``, patients,
  their clinical lists, prescriptions, immunizations, encounters and lab results, the code
  tables that name them, and ``version`` (which OpenEMR this is);
- writes only ``openemr_postcalendar_events`` (INSERT a booking, UPDATE its status to cancel it; a
  reschedule cancels one row and inserts another; never DELETE),
  ``patient_data.allow_patient_portal`` (UPDATE of that one column, for ``portico-agent access
  enable|disable``), and, only with ``openemr.notify_provider``, INSERT into ``pnotes`` (a note to
  the provider per booking and per cancellation).

In Portico's own database (``database.portal_name``) the daemon needs what it needs on a
``portico`` system's ``portal_*`` tables (:func:`agent.check.grants.needed_privileges`: the
audit trail append-only, ``portal_migrations`` read-only); ``migrate`` needs CREATE, ALTER,
INDEX, REFERENCES there and INSERT on ``portal_migrations`` (no migration drops anything, so
no DROP), best run as the administrator.

Beyond that, everything on OpenEMR's database except reading is refused (FAIL): a taken-over
agent must not be able to change the medical record or its structure. Reading more of it than
needed only warns, as reading more of a ``portico`` practice database does.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields

from agent.check.grants import (
    is_this_database,
    judge_grants,
    needed_privileges,
    parse_grant,
    quote_account,
    quote_name,
)
from agent.openemr.store.tables import Tables

_ORDER = ("SELECT", "INSERT", "UPDATE", "DELETE")
# Why each OpenEMR write right is needed (printed next to a missing one).
_BOOKINGS = "bookings, cancellations and reschedules"
_PORTAL_FLAG = "`portico-agent access enable|disable`"
_NOTE = "a note to the provider per booking (openemr.notify_provider)"


@dataclass(frozen=True, slots=True)
class Need:
    """One right the running agent needs: ``privilege`` on ``database.table`` (on one
    ``column`` only when set)."""

    privilege: str
    database: str
    table: str
    column: str | None = None
    why: str = ""

    @property
    def target(self) -> str:
        return f"{quote_name(self.database)}.{quote_name(self.table)}"

    def __str__(self) -> str:
        column = f" ({quote_name(self.column)})" if self.column else ""
        return f"{self.privilege}{column} ON {self.target}"


def table_names(tables: Tables) -> dict[str, str]:
    """Tables' field -> the table's own name (``events`` -> ``openemr_postcalendar_events``)."""
    return {f.name: getattr(tables, f.name).rpartition(".")[2][1:-1] for f in fields(Tables)}


def openemr_needs(
    openemr_db: str, portal_db: str, portal_tables: Iterable[str], *, notify_provider: bool
) -> list[Need]:
    """Every right the running agent needs, OpenEMR's database first."""
    names = table_names(Tables.of(openemr_db))
    needs = [
        Need("SELECT", openemr_db, table, why="read")
        for field_name, table in sorted(names.items(), key=lambda item: item[1])
        if field_name != "pnotes"
    ]
    events, patients = names["events"], names["patient_data"]
    needs += [
        Need("INSERT", openemr_db, events, why=_BOOKINGS),
        Need("UPDATE", openemr_db, events, why=_BOOKINGS),
        Need("UPDATE", openemr_db, patients, "allow_patient_portal", why=_PORTAL_FLAG),
    ]
    if notify_provider:
        needs.append(Need("INSERT", openemr_db, names["pnotes"], why=_NOTE))
    for table, rights in sorted(needed_privileges(portal_tables).items()):
        needs += [
            Need(p, portal_db, table, why="Portico's own data") for p in _ORDER if p in rights
        ]
    return needs


def grant_statements(needs: Sequence[Need], account: str) -> list[str]:
    """One GRANT per table, in the order of ``needs``; a column right is written as such."""
    who = quote_account(account)
    by_target: dict[str, list[Need]] = {}
    for need in needs:
        by_target.setdefault(need.target, []).append(need)
    statements = []
    for target, group in by_target.items():
        rights = []
        for privilege in _ORDER:
            columns = [n.column for n in group if n.privilege == privilege]
            if None in columns:
                rights.append(privilege)
            elif columns:
                listed = ", ".join(quote_name(c) for c in sorted({c for c in columns if c}))
                rights.append(f"{privilege} ({listed})")
        statements.append(f"GRANT {', '.join(rights)} ON {target} TO {who};")
    return statements


def migrate_statements(portal_db: str, account: str) -> list[str]:
    """What ``portico-agent migrate`` needs besides the daemon's rights, on Portico's database
    only (CREATE there also lets it create that database)."""
    who, db = quote_account(account), quote_name(portal_db)
    return [
        f"GRANT CREATE, ALTER, INDEX, REFERENCES ON {db}.* TO {who};",
        f"GRANT INSERT ON {db}.`portal_migrations` TO {who};",
    ]


@dataclass
class OpenEMRVerdict:
    """Rights beyond :func:`openemr_needs`; what is missing is found by probing, not here."""

    too_wide: list[str] = field(default_factory=list)
    more_than_needed: list[str] = field(default_factory=list)
    administrator: bool = False


_PRIVILEGES = re.compile(r"^GRANT\s+(?P<privileges>.+?)\s+ON\s+", re.IGNORECASE)


def _column_rights(line: str) -> dict[str, bool]:
    """privilege -> granted on the whole table (False: on some columns only)."""
    match = _PRIVILEGES.match(line.strip())
    if match is None:
        return {}
    rights: dict[str, bool] = {}
    for item in re.split(r",(?![^(]*\))", match["privileges"]):
        name, _, columns = item.partition("(")
        key = " ".join(name.split()).upper()
        rights[key] = rights.get(key, False) or not columns
    return rights


def judge_openemr_grants(
    lines: Iterable[str], openemr_db: str, portal_db: str, needs: Sequence[Need]
) -> OpenEMRVerdict:
    """The SHOW GRANTS ``lines`` against ``needs``: rights on Portico's database and anywhere
    else are judged as for a ``portico`` practice (:func:`agent.check.grants.judge_grants`)."""
    verdict = OpenEMRVerdict()
    elsewhere = []
    allowed: dict[str, set[str]] = {}
    for need in needs:
        if need.database == openemr_db:
            allowed.setdefault(need.table, set()).add(need.privilege)
    whole_table = {(n.table, n.privilege) for n in needs if n.column is None}
    for line in lines:
        grant = parse_grant(line)
        if grant is None:
            continue
        if grant.database is None or not is_this_database(grant.database, openemr_db):
            elsewhere.append(grant)
            continue
        where = f"{quote_name(openemr_db)}.{quote_name(grant.table)}"
        if grant.grant_option:
            verdict.too_wide.append(f"GRANT OPTION ON {where} (it could give its rights away)")
        for privilege, entire in sorted(_column_rights(line).items()):
            _judge(verdict, privilege, entire, grant.table, where, allowed, whole_table)
    portal_needs: dict[str, set[str]] = {}
    for need in needs:
        if need.database == portal_db:
            portal_needs.setdefault(need.table, set()).add(need.privilege)
    portal = judge_grants(
        elsewhere, portal_db, {table: frozenset(p) for table, p in portal_needs.items()}
    )
    verdict.too_wide += portal.too_wide
    verdict.more_than_needed += portal.more_than_needed
    verdict.administrator = portal.administrator
    return verdict


def _judge(
    verdict: OpenEMRVerdict,
    privilege: str,
    entire: bool,
    table: str | None,
    where: str,
    allowed: dict[str, set[str]],
    whole_table: set[tuple[str, str]],
) -> None:
    if privilege in ("USAGE", "GRANT OPTION"):
        return
    if table is None:
        if privilege == "SELECT":
            verdict.more_than_needed.append(f"SELECT ON {where} (every OpenEMR table)")
        else:
            verdict.too_wide.append(f"{privilege} ON {where} (Portico must not have it)")
        return
    if privilege in allowed.get(table, set()):
        if entire and privilege != "SELECT" and (table, privilege) not in whole_table:
            verdict.too_wide.append(f"{privilege} ON {where} (every column; one is needed)")
        return
    if privilege == "SELECT":
        verdict.more_than_needed.append(f"SELECT ON {where} (a table Portico does not read)")
    else:
        verdict.too_wide.append(f"{privilege} ON {where} (Portico must not have it)")
