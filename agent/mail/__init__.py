"""The agent's outgoing email: templates (emails.py), delivery (senders.py) and the outbox.

Emails carry links and the patient's first name only — never other PHI — and are queued in
portal_outbox inside the transaction of the change that causes them, then delivered by
:class:`OutboxWorker` through the office's SMTP relay (or into a folder for the demo).
"""

from agent.mail.emails import Mail, MailTemplates
from agent.mail.outbox import OutboxWorker, enqueue, retry_delay
from agent.mail.senders import (
    FolderSender,
    MailError,
    MailRetryLater,
    MailSender,
    MailUndeliverable,
    SMTPSender,
    sender_from_config,
)

__all__ = [
    "FolderSender",
    "Mail",
    "MailError",
    "MailRetryLater",
    "MailSender",
    "MailTemplates",
    "MailUndeliverable",
    "OutboxWorker",
    "SMTPSender",
    "enqueue",
    "retry_delay",
    "sender_from_config",
]
