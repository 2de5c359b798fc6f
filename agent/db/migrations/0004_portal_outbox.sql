-- Outgoing portal email (invites, verification, resets, notices), see agent/mail/outbox.py.
-- A row is written in the same transaction as the account change that causes it, so the change
-- and its email commit together or not at all; the worker then delivers it, retrying with
-- backoff while the relay is down. Once sent, the bodies (which hold one-time links) are
-- blanked. last_error is a short code such as "connect" or "recipient_refused:550", never an
-- address or a body. dead = 1: the relay refused it for good. Every DATETIME is UTC.
CREATE TABLE IF NOT EXISTS portal_outbox (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    to_address VARCHAR(254) NOT NULL,
    subject VARCHAR(255) NOT NULL,
    body_text MEDIUMTEXT NOT NULL,
    body_html MEDIUMTEXT NOT NULL,
    created_at DATETIME NOT NULL,
    next_attempt_at DATETIME NOT NULL,
    attempts INT UNSIGNED NOT NULL DEFAULT 0,
    sent_at DATETIME NULL,
    dead TINYINT(1) NOT NULL DEFAULT 0,
    last_error VARCHAR(64) NULL,
    KEY portal_outbox_due (sent_at, dead, next_attempt_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
