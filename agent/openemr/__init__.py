"""Portico on an OpenEMR practice database.

- ``recurrence.py``: OpenEMR's repeating calendar rows (``pc_recurrspec``) expanded to dates;
- ``calendar.py``: a provider's working and busy intervals from OpenEMR's calendar rows, in
  the shape the pure slot function (``agent/booking/slots.py``) takes.

Both are pure (no database code); the store that reads the rows lives apart from them.
"""
