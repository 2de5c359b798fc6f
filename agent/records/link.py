"""The link methods of agent.records: `records.summary` and `records.bundle` (docs/protocol.md).

Neither takes parameters: the record is always the session's own patient's, so there is no
id a caller could swap for someone else's.
"""

from __future__ import annotations

from typing import Any

from agent.records.service import RecordService
from agent.rpc import DomainContext, MethodTable, NoParams
from protocol.aio import Request


def link_methods(context: DomainContext) -> MethodTable:
    service = RecordService(
        context.store,
        context.clock,
        context.zone,
        context.config.practice.subdomain,
    )

    async def summary(request: Request, params: NoParams) -> Any:
        return await service.summary(await context.callers.caller_for(request))

    async def bundle(request: Request, params: NoParams) -> Any:
        return await service.bundle(await context.callers.caller_for(request))

    return {
        "records.summary": (NoParams, summary),
        "records.bundle": (NoParams, bundle),
    }
