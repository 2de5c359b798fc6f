-- Calendar files for appointments (issue 16, agent/booking/confirmations.py). One row per
-- appointment the portal sent a calendar file for: its iCalendar UID and SEQUENCE. A
-- reschedule books a new appointment row in the practice system, so the new id takes over
-- the old one's uid with sequence + 1, and a cancellation raises the sequence: a patient's
-- calendar updates the one event instead of adding a second. Kept here, not derived from the
-- clock or memory, so the sequence still goes up after a restart. No patient data: ids only.
CREATE TABLE IF NOT EXISTS portal_appointment_calendar (
    appointment_id BIGINT UNSIGNED NOT NULL PRIMARY KEY,
    uid VARCHAR(255) NOT NULL,
    sequence INT UNSIGNED NOT NULL DEFAULT 0,
    updated_at DATETIME NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
-- An email's one attachment (the appointment emails' .ics), blanked once sent like the bodies.
ALTER TABLE portal_outbox ADD COLUMN IF NOT EXISTS attachment_name VARCHAR(100) NULL;
ALTER TABLE portal_outbox ADD COLUMN IF NOT EXISTS attachment_type VARCHAR(100) NULL;
ALTER TABLE portal_outbox ADD COLUMN IF NOT EXISTS attachment_text MEDIUMTEXT NULL;
