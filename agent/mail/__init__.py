"""The agent's outgoing email: templates (emails.py), delivery (senders.py) and the outbox.

Emails carry links and the patient's first name only — never other PHI — and are queued in
portal_outbox inside the transaction of the change that causes them, then delivered by
:class:`OutboxWorker` through the office's SMTP relay (or into a folder for the demo).
"""
