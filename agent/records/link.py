"""The link methods of agent.records (filled in by the records work)."""

from __future__ import annotations

from agent.rpc import DomainContext, MethodTable


def link_methods(context: DomainContext) -> MethodTable:
    return {}
