"""Is the agent's database user allowed exactly what Portico needs? (``portico-agent check``)

Pure functions over the lines of ``SHOW GRANTS``: parse them, compare them with the
least-privilege set below, and write the GRANT statements that would fix what is off.

The least-privilege set, per table of the practice database (the tables come from the shipped
migrations, so a new migration's tables are covered without touching this file):

- every practice table: SELECT. Portico reads them for booking, records and sign-up checks;
- ``appointments``: also INSERT, UPDATE (online booking, cancel, reschedule);
- ``patients``: also INSERT, UPDATE (self-registration adds a patient; an email change
  updates the address on file);
- every ``portal_*`` table: SELECT, INSERT, UPDATE, DELETE (Portico's own data), except
  ``portal_audit``: SELECT, INSERT only, so the audit trail stays append-only even for the
  agent, and ``portal_migrations``: SELECT only (the check compares it with the shipped
  migrations; recording a new one is ``migrate``'s job).

``portico-agent migrate`` needs more: CREATE, ALTER, INDEX, REFERENCES on the database and
INSERT on ``portal_migrations``. Those are allowed (not required) here, so one user may do both,
but the advice is to run ``migrate`` as an administrator.

Everything else is judged by how much harm it could do if the agent's server were taken over:

- FAIL: ALL PRIVILEGES, GRANT OPTION, anything on ``*.*`` (SUPER, FILE, PROCESS, ...), rights on
  another database, PROXY, routines, and rights on this database that change its structure or
  run code (DROP, TRIGGER, EVENT, CREATE ROUTINE, ...);
- WARN: reading or writing more of this database's data than needed (for example
  ``SELECT, INSERT, UPDATE, DELETE ON practice.*``);
- FAIL as well: a right the agent needs but lacks (it would fail at run time).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

PRACTICE_READ = frozenset({"SELECT"})
# Where the agent writes into the practice's own tables (booking; email change, self-signup).
PRACTICE_WRITES: Mapping[str, frozenset[str]] = {
    "appointments": frozenset({"SELECT", "INSERT", "UPDATE"}),
    "patients": frozenset({"SELECT", "INSERT", "UPDATE"}),
}
PORTAL_DATA = frozenset({"SELECT", "INSERT", "UPDATE", "DELETE"})
PORTAL_SPECIAL: Mapping[str, frozenset[str]] = {
    "portal_audit": frozenset({"SELECT", "INSERT"}),  # append-only, even for the agent
    "portal_migrations": frozenset({"SELECT"}),
}
MIGRATE_DATABASE = frozenset({"CREATE", "ALTER", "INDEX", "REFERENCES"})
MIGRATE_TABLES: Mapping[str, frozenset[str]] = {"portal_migrations": frozenset({"INSERT"})}
# Too much, but only over this database's rows: a warning, not a failure.
DATA_ACCESS = frozenset(
    {"SELECT", "INSERT", "UPDATE", "DELETE", "LOCK TABLES", "CREATE TEMPORARY TABLES", "SHOW VIEW"}
)
_ALL = frozenset({"ALL", "ALL PRIVILEGES"})

_GRANT = re.compile(r"^GRANT\s+(?P<privileges>.+?)\s+ON\s+(?P<object>.+?)\s+TO\s+(?P<rest>.+)$")
_ROLE = re.compile(r"^GRANT\s+(?P<roles>.+?)\s+TO\s+", re.IGNORECASE)
_NAME = r"(?:`(?:[^`]|``)*`|\*)"
_OBJECT = re.compile(
    rf"^(?:(?P<routine>FUNCTION|PROCEDURE|PACKAGE(?: BODY)?)\s+)?"
    rf"(?P<db>{_NAME})\.(?P<table>{_NAME})$"
)
_QUOTED_ROLE = re.compile(r"`((?:[^`]|``)*)`(?:@`(?:[^`]|``)*`)?")


@dataclass(frozen=True)
class Grant:
    """One ``GRANT ... ON ...`` line. ``database``/``table`` are None for ``*``; ``other`` holds
    an object that is not a database or table (a PROXY grant's user, a routine)."""

    privileges: frozenset[str]
    database: str | None
    table: str | None
    grant_option: bool
    other: str | None = None


@dataclass
class GrantVerdict:
    """What is wrong with a user's grants; empty lists mean exactly right."""

    too_wide: list[str] = field(default_factory=list)
    """Rights that are dangerous: FAIL."""
    more_than_needed: list[str] = field(default_factory=list)
    """More data access than needed within this database: WARN."""
    missing: dict[str, frozenset[str]] = field(default_factory=dict)
    """table -> the rights the agent needs there but lacks: FAIL."""
    administrator: bool = False
    """Global rights: this is an administrator's account, not one to narrow."""
    can_migrate: bool = False


def _unquote(name: str) -> str | None:
    return None if name == "*" else name[1:-1].replace("``", "`")


def _split_privileges(text: str) -> list[str]:
    """``SELECT, UPDATE (`a`, `b`), INSERT`` -> names, column lists dropped: a column-level
    right is narrower than the table's, so it is judged as the table's (never as wider)."""
    names, depth, current = [], 0, ""
    for char in text:
        depth += char == "("
        depth -= char == ")"
        if char == "," and depth == 0:
            names.append(current)
            current = ""
        else:
            current += char
    names.append(current)
    return [" ".join(re.sub(r"\(.*\)", "", n).split()).upper() for n in names if n.strip()]


def parse_grant(line: str) -> Grant | None:
    """One line of SHOW GRANTS, or None for lines that grant no object right (roles, SET
    DEFAULT ROLE); see :func:`granted_roles` for those."""
    match = _GRANT.match(line.strip())
    if match is None:
        return None
    privileges = frozenset(_split_privileges(match["privileges"]))
    grant_option = "WITH GRANT OPTION" in match["rest"].upper() or "GRANT OPTION" in privileges
    target = _OBJECT.match(match["object"])
    if target is None or target["routine"]:
        return Grant(privileges, None, None, grant_option, other=match["object"])
    return Grant(
        privileges, _unquote(target["db"]), _unquote(target["table"]), grant_option, other=None
    )


def granted_roles(line: str) -> list[str]:
    """The roles a ``GRANT `role` TO user`` line gives (empty for any other line)."""
    if " ON " in line.upper():
        return []
    match = _ROLE.match(line.strip())
    if match is None:
        return []
    return [m[1].replace("``", "`") for m in _QUOTED_ROLE.finditer(match["roles"])]


def needed_privileges(tables: Iterable[str]) -> dict[str, frozenset[str]]:
    """table -> the rights the running agent needs on it (the policy in the module docstring)."""
    needed = {}
    for table in tables:
        if table.startswith("portal_"):
            needed[table] = PORTAL_SPECIAL.get(table, PORTAL_DATA)
        else:
            needed[table] = PRACTICE_WRITES.get(table, PRACTICE_READ)
    return needed


def is_this_database(pattern: str, database: str) -> bool:
    # Database names in grants are LIKE patterns with \_ and \% for literal characters. An
    # unescaped `practice_db` is, strictly, a pattern; it is what admins type for practice_db.
    return pattern.replace("\\_", "_").replace("\\%", "%") == database


def judge_grants(
    grants: Iterable[Grant], database: str, needed: Mapping[str, frozenset[str]]
) -> GrantVerdict:
    verdict = GrantVerdict()
    have_database: set[str] = set()
    have_table: dict[str, set[str]] = {}
    for grant in grants:
        privileges = grant.privileges - {"USAGE", "GRANT OPTION"}
        where = _describe_object(grant)
        if grant.grant_option:
            verdict.too_wide.append(f"GRANT OPTION ON {where} (it could give its rights away)")
        if not privileges:
            continue
        listed = ", ".join(sorted(privileges))
        if grant.other is not None:
            verdict.too_wide.append(f"{listed} ON {where}")
        elif grant.database is None:
            verdict.administrator = True
            verdict.too_wide.append(f"{listed} ON *.* (every database on the server)")
            have_database |= _expand(privileges)
        elif not is_this_database(grant.database, database):
            verdict.too_wide.append(f"{listed} ON {where} (another database)")
        elif grant.table is None:
            have_database |= _expand(privileges)
            _judge_database_level(verdict, privileges, where)
        else:
            have_table.setdefault(grant.table, set()).update(_expand(privileges))
            _judge_table_level(verdict, privileges, grant.table, where, needed)
    verdict.can_migrate = have_database >= MIGRATE_DATABASE or "ALL" in have_database
    for table, wanted in needed.items():
        lacking = wanted - have_database - have_table.get(table, set())
        if "ALL" not in have_database and "ALL" not in have_table.get(table, set()) and lacking:
            verdict.missing[table] = frozenset(lacking)
    return verdict


def _expand(privileges: frozenset[str]) -> set[str]:
    return {"ALL"} if privileges & _ALL else set(privileges)


def _judge_database_level(verdict: GrantVerdict, privileges: frozenset[str], where: str) -> None:
    if privileges & _ALL:
        verdict.too_wide.append(f"ALL PRIVILEGES ON {where}")
        return
    dangerous = privileges - MIGRATE_DATABASE - DATA_ACCESS
    if dangerous:
        verdict.too_wide.append(f"{', '.join(sorted(dangerous))} ON {where}")
    data = privileges & DATA_ACCESS
    if data:
        verdict.more_than_needed.append(
            f"{', '.join(sorted(data))} ON {where} (every table, the practice's own included)"
        )


def _judge_table_level(
    verdict: GrantVerdict,
    privileges: frozenset[str],
    table: str,
    where: str,
    needed: Mapping[str, frozenset[str]],
) -> None:
    if privileges & _ALL:
        verdict.too_wide.append(f"ALL PRIVILEGES ON {where}")
        return
    allowed = needed.get(table, frozenset()) | MIGRATE_DATABASE | MIGRATE_TABLES.get(table, set())
    extra = privileges - allowed
    dangerous = extra - DATA_ACCESS
    if dangerous:
        verdict.too_wide.append(f"{', '.join(sorted(dangerous))} ON {where}")
    if extra & DATA_ACCESS:
        why = "not needed there" if table in needed else "a table Portico does not use"
        verdict.more_than_needed.append(
            f"{', '.join(sorted(extra & DATA_ACCESS))} ON {where} ({why})"
        )


def _describe_object(grant: Grant) -> str:
    if grant.other is not None:
        return grant.other
    return f"{quote_name(grant.database)}.{quote_name(grant.table)}"


def quote_name(name: str | None) -> str:
    """A database or table name as SQL writes it (``*`` for any)."""
    return "*" if name is None else "`" + name.replace("`", "``") + "`"


def quote_account(account: str) -> str:
    """``user@host`` (as CURRENT_USER() returns it) -> ``'user'@'host'``."""
    user, _, host = account.rpartition("@")
    return "'{}'@'{}'".format(
        *(part.replace("\\", "\\\\").replace("'", "\\'") for part in (user, host))
    )


def grant_statements(
    database: str, account: str, needed: Mapping[str, frozenset[str]]
) -> list[str]:
    """One GRANT per table, in table order, for ``user@host``."""
    who = quote_account(account)
    order = ("SELECT", "INSERT", "UPDATE", "DELETE")
    return [
        f"GRANT {', '.join(p for p in order if p in rights)} "
        f"ON {quote_name(database)}.{quote_name(table)} TO {who};"
        for table, rights in sorted(needed.items())
    ]


def migrate_statements(database: str, account: str) -> list[str]:
    """What to add for ``migrate`` to run as this user too."""
    who = quote_account(account)
    return [
        f"GRANT {', '.join(sorted(MIGRATE_DATABASE))} ON {quote_name(database)}.* TO {who};",
        f"GRANT SELECT, INSERT ON {quote_name(database)}.`portal_migrations` TO {who};",
    ]
