-- Self-registrations waiting for their email to be verified (agent/access/registration.py).
-- Nothing is written to the practice's patients table before the emailed link is opened: the
-- sign-up waits here, and only its redemption creates the chart (or links the account to the
-- patient's existing chart). The link's token is stored as its SHA-256 only. A row is deleted
-- when its link is used, and expired rows are deleted by the mail worker's next round, so
-- names, birth dates and password hashes of abandoned sign-ups are not kept.
-- patient_id: the existing chart the sign-up matched when it was made (NULL: none); it is
-- matched again when the link is opened.
CREATE TABLE IF NOT EXISTS portal_registrations (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    token_hash CHAR(64) NOT NULL,
    patient_id BIGINT UNSIGNED NULL,
    first_name VARCHAR(100) NOT NULL,
    last_name VARCHAR(100) NOT NULL,
    date_of_birth DATE NOT NULL,
    home_zip VARCHAR(16) NOT NULL,
    email VARCHAR(254) NOT NULL,
    username VARCHAR(32) NULL,
    password_hash VARCHAR(255) NOT NULL,
    created_at DATETIME NOT NULL,
    expires_at DATETIME NOT NULL,
    UNIQUE KEY portal_registrations_hash (token_hash),
    KEY portal_registrations_expiry (expires_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
