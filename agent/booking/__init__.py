"""Online booking: what a patient may book, and booking, cancelling and rescheduling.

- ``slots.py``: the pure rules (which start times may be offered), no I/O;
- the practice data it needs comes from the practice store (agent/store/base.py);
- ``service.py``: :class:`BookingService`, the change transactions, on top of ``reads.py``
  (its read half, :class:`BookingReads`, and :class:`BookingRules`; two files because
  together they pass 400 lines);
- ``link.py``: the ``booking.*`` and ``appointments.list`` link methods.
"""
