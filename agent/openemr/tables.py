"""OpenEMR's table names, qualified with the practice database.

The pool's default database is Portico's own (`database.portal_name`), so an OpenEMR table is
always written `` `openemr`.`patient_data` `` (whatever the office named its database). SQL in
agent/openemr/ takes a :class:`Tables` and formats names from it; nothing builds a table name
from anything else.
"""

from __future__ import annotations

from dataclasses import dataclass, fields


def _quoted(name: str) -> str:
    # MysqlName (agent/config_values.py) already refuses backticks; doubled anyway.
    return "`" + name.replace("`", "``") + "`"


@dataclass(frozen=True, slots=True)
class Tables:
    """Each OpenEMR table Portico touches, as SQL (``database.table``, both quoted)."""

    events: str
    categories: str
    patient_data: str
    users: str
    globals: str
    lists: str
    prescriptions: str
    immunizations: str
    codes: str
    lists_medication: str
    procedure_order_code: str
    form_encounter: str
    procedure_order: str
    procedure_report: str
    procedure_result: str
    list_options: str
    pnotes: str
    version: str
    facility: str

    @classmethod
    def of(cls, database: str) -> Tables:
        """The tables of the OpenEMR database named `database`."""
        real = {
            "events": "openemr_postcalendar_events",
            "categories": "openemr_postcalendar_categories",
        }
        return cls(
            **{
                f.name: f"{_quoted(database)}.{_quoted(real.get(f.name, f.name))}"
                for f in fields(cls)
            }
        )
