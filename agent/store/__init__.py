"""The practice store: the domain services' only way to the practice's own data.

- ``base.py``: the interface (:class:`~agent.store.base.PracticeStore`) and its value types;
- ``portico/``: the implementation over Portico's own practice schema (docs/schema.md).

Portico's own ``portal_*`` tables are not here: each domain package keeps their SQL.
"""
