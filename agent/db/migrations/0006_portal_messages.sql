-- Secure messages between the office and its patients (DESIGN.md "messages", issue 6).
-- The office starts a thread with `portico-agent messages send`; the patient reads it in the
-- portal and replies in the same thread. Bodies and attachments live here only: the proxy
-- never stores them and the notice email never carries them. Read marks are kept per side
-- (read_by_patient_at for office messages, read_by_staff_at for patient replies), which is
-- what the unread counts in the portal header and in `messages list --unread` count.
-- Every DATETIME is UTC.

CREATE TABLE IF NOT EXISTS portal_message_threads (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    patient_id BIGINT UNSIGNED NOT NULL,
    subject VARCHAR(200) NOT NULL,
    -- 0: an announcement the patient can read but not answer (`messages send --no-reply`).
    replies_allowed TINYINT(1) NOT NULL DEFAULT 1,
    -- Who opened the thread, as in the audit trail (staff:<os user>).
    created_by VARCHAR(64) NOT NULL,
    created_at DATETIME NOT NULL,
    -- The newest message's time and side, kept with each message written, so that the
    -- patient's thread list is one index range read in the order it is shown.
    last_message_at DATETIME NOT NULL,
    last_sender ENUM('office', 'patient') NOT NULL,
    KEY portal_message_threads_patient (patient_id, last_message_at, id),
    CONSTRAINT portal_message_threads_patient FOREIGN KEY (patient_id) REFERENCES patients (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS portal_messages (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    thread_id BIGINT UNSIGNED NOT NULL,
    -- The thread's patient again, so that unread counts (asked on every portal page) read one
    -- index range without a join.
    patient_id BIGINT UNSIGNED NOT NULL,
    sender ENUM('office', 'patient') NOT NULL,
    -- The name shown above the message: the office's (or `--from NAME`), or the patient's.
    author VARCHAR(200) NOT NULL,
    -- Who wrote it, as in the audit trail: staff:<os user> or patient:<id>.
    actor VARCHAR(64) NOT NULL,
    -- 1 to 5,000 characters as typed (only surrounding whitespace trimmed), never escaped
    -- here: the proxy escapes it when it renders the page.
    body TEXT NOT NULL,
    sent_at DATETIME NOT NULL,
    -- Office messages: when the patient first opened the thread after it arrived.
    read_by_patient_at DATETIME NULL,
    -- Patient replies: when staff first showed the thread (`messages show`).
    read_by_staff_at DATETIME NULL,
    KEY portal_messages_thread (thread_id, sent_at, id),
    KEY portal_messages_patient_unread (patient_id, sender, read_by_patient_at),
    KEY portal_messages_staff_unread (sender, read_by_staff_at, thread_id),
    CONSTRAINT portal_messages_thread FOREIGN KEY (thread_id)
        REFERENCES portal_message_threads (id),
    CONSTRAINT portal_messages_patient FOREIGN KEY (patient_id) REFERENCES patients (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Files the office attaches to its messages. Caps (checked by the agent and again here): at
-- most 5 per message (position 1-5) and 3 MiB each, so that one attachment, base64-encoded
-- (4/3 larger) in a link answer, stays well under the link's 8 MiB message limit. Allowed
-- types, chosen by extension and checked against the file's first bytes: pdf, png, jpg/jpeg,
-- txt.
CREATE TABLE IF NOT EXISTS portal_message_attachments (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    message_id BIGINT UNSIGNED NOT NULL,
    position TINYINT UNSIGNED NOT NULL,
    filename VARCHAR(255) NOT NULL,
    content_type VARCHAR(100) NOT NULL,
    size INT UNSIGNED NOT NULL,
    data MEDIUMBLOB NOT NULL,
    UNIQUE KEY portal_message_attachments_position (message_id, position),
    CONSTRAINT portal_message_attachments_message FOREIGN KEY (message_id)
        REFERENCES portal_messages (id),
    CONSTRAINT portal_message_attachments_count CHECK (position BETWEEN 1 AND 5),
    CONSTRAINT portal_message_attachments_size CHECK (size BETWEEN 1 AND 3145728)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
