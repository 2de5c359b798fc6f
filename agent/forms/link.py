"""The link methods of agent.forms (filled in by the forms work)."""

from __future__ import annotations

from agent.rpc import DomainContext, MethodTable


def link_methods(context: DomainContext) -> MethodTable:
    return {}
