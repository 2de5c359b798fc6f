"""What messages and forms look up in the practice's data (to be filled)."""

from __future__ import annotations


class OpenEMRLookups:
    """The lookups of :class:`agent.openemr.store.OpenEMRStore`."""
