"""Portico on an OpenEMR practice database.

- ``recurrence.py``: OpenEMR's repeating calendar rows (``pc_recurrspec``) expanded to dates;
- ``calendar.py``: a provider's working and busy intervals from OpenEMR's calendar rows, in
  the shape the pure slot function (``agent/booking/slots.py``) takes;
- ``records.py``: a patient's clinical record read from OpenEMR's tables, as the record types
  of ``agent/store/base.py``.

The first two are pure (no database code); the store that reads calendar rows lives apart from
them. ``records.py`` is a reader: it runs SQL on the cursor it is given.
"""
