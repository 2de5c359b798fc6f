"""Who asks: the signed-in patient a link request acts for.

Every domain service (booking, access, messages, forms, records) takes a :class:`Caller` and
scopes its queries to ``caller.patient_id``; agent/rpc.py makes one from the request's session.
It lives alone so that no domain package imports another one just for this type.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Caller:
    """Who asks: the patient the session belongs to, and from where (for the audit)."""

    patient_id: int
    client_ip: str | None = None
    account_id: int | None = None

    @property
    def actor(self) -> str:
        return f"patient:{self.patient_id}"
