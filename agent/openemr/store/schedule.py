"""Booking reads of the OpenEMR store (to be filled: providers, categories, hours, busy time,
a patient's appointments)."""

from __future__ import annotations


class OpenEMRSchedule:
    """The booking reads of :class:`agent.openemr.store.OpenEMRStore`."""
