"""Portico's own tables without the practice's: the migrations as they apply to a portal database.

With ``practice.system: openemr`` the practice's data lives in OpenEMR's database, which Portico
must not change, and Portico's ``portal_*`` tables live in a database of their own
(``database.portal_name``). The shipped migrations were written for Portico's own practice
schema: 0001 and 0005 create practice tables, and some ``portal_*`` tables carry a foreign key
to ``patients``. Applied files may not change (their checksums are recorded), so rather than a
second, hand-kept copy of the portal schema that could drift, the runner derives the portal
database's statements from the same files: a statement on a practice table is left out, and a
``portal_*`` table keeps everything but its foreign keys to practice tables. A statement this
module cannot classify is an error, so a new kind of migration is noticed the first time the
tests migrate a portal database, never at an office.
"""

from __future__ import annotations

import re

PORTAL_PREFIX = "portal_"

# The table a statement changes: CREATE TABLE / ALTER TABLE / CREATE INDEX ... ON / DROP TABLE.
_TARGET = re.compile(
    r"^\s*(?:CREATE\s+TABLE(?:\s+IF\s+NOT\s+EXISTS)?"
    r"|ALTER\s+TABLE"
    r"|DROP\s+TABLE(?:\s+IF\s+EXISTS)?"
    r"|CREATE\s+(?:UNIQUE\s+)?INDEX(?:\s+IF\s+NOT\s+EXISTS)?\s+`?\w+`?\s+ON)"
    r"\s+`?(\w+)`?",
    re.IGNORECASE,
)
# One foreign-key clause of a CREATE TABLE, with the comma before it.
_FOREIGN_KEY = re.compile(
    r",\s*CONSTRAINT\s+`?\w+`?\s+FOREIGN\s+KEY\s*\([^)]*\)\s*REFERENCES\s+`?(\w+)`?\s*\([^)]*\)"
    r"(?:\s+ON\s+(?:DELETE|UPDATE)\s+(?:CASCADE|RESTRICT|SET\s+NULL|NO\s+ACTION|SET\s+DEFAULT))*",
    re.IGNORECASE,
)
_REFERENCES = re.compile(r"\bREFERENCES\s+`?(\w+)`?", re.IGNORECASE)


class UnclassifiedStatement(ValueError):
    """A migration statement whose portal-database form this module cannot tell."""


def is_portal_table(name: str) -> bool:
    return name.lower().startswith(PORTAL_PREFIX)


def portal_statement(statement: str) -> str | None:
    """`statement` as it applies to a portal-only database: None when it changes a practice
    table, else the statement without its foreign keys to practice tables."""
    target = _TARGET.match(statement)
    if target is None:
        raise UnclassifiedStatement(f"cannot tell which table this changes: {statement[:80]!r}")
    if not is_portal_table(target[1]):
        return None

    def keep_portal_keys(clause: re.Match[str]) -> str:
        return clause[0] if is_portal_table(clause[1]) else ""

    portal_only = _FOREIGN_KEY.sub(keep_portal_keys, statement)
    outside = [t for t in _REFERENCES.findall(portal_only) if not is_portal_table(t)]
    if outside:
        raise UnclassifiedStatement(
            f"{target[1]} still references {', '.join(outside)} in a form not understood here"
        )
    return portal_only
