"""What a practice store may refuse, besides :class:`agent.store.base.SlotTaken`."""

from __future__ import annotations


class PracticeReadOnly(Exception):
    """Raised by a store asked for a change its practice system keeps to itself (OpenEMR: a
    new chart, the email on a chart; the office makes those in OpenEMR). Nothing was written;
    the service tells the person to call the office, or staff where to make the change."""
