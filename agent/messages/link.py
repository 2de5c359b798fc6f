"""The link methods of agent.messages (filled in by the messages work)."""

from __future__ import annotations

from agent.rpc import DomainContext, MethodTable


def link_methods(context: DomainContext) -> MethodTable:
    return {}
