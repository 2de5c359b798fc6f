"""Clinical records from OpenEMR's tables (to be filled: clinical_record over
agent/openemr/records.py)."""

from __future__ import annotations


class OpenEMRCharts:
    """The chart method of :class:`agent.openemr.store.OpenEMRStore`."""
