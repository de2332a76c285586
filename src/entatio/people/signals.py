"""Signals other apps listen to when something happens to people."""

from django.dispatch import Signal

# Sent with ``member`` inside the transaction that erases the person, so that
# every app drops what ties the placeholder to a real person in one go.
member_erased = Signal()

# Sent with ``member`` when their data is handed over; each receiver returns
# a dict of sections (name to JSON-ready data) that joins the document.
member_data_requested = Signal()
