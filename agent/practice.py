"""The link method `practice.info`: the practice's facts and the rules its pages follow.

Apart from the domain packages because it speaks for two of them: what the booking steps
and the sign-up and account pages must offer. The rules are read at each call, since a reload
may change them (agent/reload.py), unlike WELCOME's practice facts.
"""

from __future__ import annotations

from typing import Any

from agent.access.service import AccessService
from agent.booking.service import BookingService
from agent.rpc import DomainContext, MethodTable, NoParams
from protocol.aio import Request


def link_methods(
    context: DomainContext, booking: BookingService, access: AccessService
) -> MethodTable:
    practice = context.config.practice

    async def info(request: Request, params: NoParams) -> Any:
        rules = booking.rules
        return {
            "name": practice.name,
            "phone": practice.phone,
            "timezone": practice.timezone,
            "booking": {
                "enabled": rules.enabled,
                "allow_no_preference": rules.allow_no_preference,
                "allow_cancel_reschedule": rules.allow_cancel_reschedule,
                "horizon_days": rules.horizon_days,
                "min_notice_hours": rules.min_notice_hours,
                "cancel_cutoff_hours": rules.cancel_cutoff_hours,
            },
            "access": {
                "self_registration": access.rules.self_registration,
                "identity": access.rules.identity,
            },
        }

    return {"practice.info": (NoParams, info)}
