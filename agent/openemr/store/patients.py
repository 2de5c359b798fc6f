"""Patients in OpenEMR's `patient_data` (to be filled: identity, portal permission)."""

from __future__ import annotations


class OpenEMRPatients:
    """The patient methods of :class:`agent.openemr.store.OpenEMRStore`."""
