"""OpenEMR's qualified table names, for the store's modules: :class:`Tables` lives in
agent/openemr/tables.py, beside the read queries that take it (agent/openemr/queries.py imports
it there; importing it from the store package would make the store and the queries import
each other)."""

from agent.openemr.tables import Tables

__all__ = ["Tables"]
