"""Locks and the rows the OpenEMR store writes (to be filled: the lock_* methods,
insert_appointment with its re-check, cancel_appointment, the optional pnotes note)."""

from __future__ import annotations


class OpenEMRChanges:
    """The booking changes of :class:`agent.openemr.store.OpenEMRStore`."""
