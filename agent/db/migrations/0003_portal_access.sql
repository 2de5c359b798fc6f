-- Portal accounts, one-time tokens and sessions (DESIGN.md "Access rules").
-- Tokens and sessions are stored as SHA-256 hashes of 256-bit random values: a copy of this
-- table is useless to sign in with.

CREATE TABLE IF NOT EXISTS portal_accounts (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    patient_id BIGINT UNSIGNED NOT NULL,
    -- The normalised address mail goes to.
    email VARCHAR(254) NULL,
    -- The same address when it is the login (access.identity: email), else NULL: the unique
    -- key makes two accounts with one login email impossible, whatever the code does.
    login_email VARCHAR(254) NULL,
    username VARCHAR(32) NULL,
    password_hash VARCHAR(255) NULL,
    -- invited: staff sent an invite, not yet activated; pending: self-registered, email not
    -- yet verified; active: the patient has set a password.
    status ENUM('invited', 'pending', 'active') NOT NULL,
    -- The office's access level: "Patient Can Access Portal" (1) or "No Access" (0).
    access_enabled TINYINT(1) NOT NULL DEFAULT 0,
    failed_logins INT UNSIGNED NOT NULL DEFAULT 0,
    locked_until DATETIME NULL,
    created_at DATETIME NOT NULL,
    activated_at DATETIME NULL,
    password_changed_at DATETIME NULL,
    UNIQUE KEY portal_accounts_patient (patient_id),
    UNIQUE KEY portal_accounts_login_email (login_email),
    UNIQUE KEY portal_accounts_username (username),
    CONSTRAINT portal_accounts_patient FOREIGN KEY (patient_id) REFERENCES patients (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS portal_tokens (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    token_hash CHAR(64) NOT NULL,
    purpose ENUM('invite', 'verify_email', 'reset_password', 'change_email') NOT NULL,
    account_id BIGINT UNSIGNED NOT NULL,
    new_email VARCHAR(254) NULL,
    -- Wrong date of birth / zip answers against this token; it is burnt after a few.
    failed_checks INT UNSIGNED NOT NULL DEFAULT 0,
    created_at DATETIME NOT NULL,
    expires_at DATETIME NOT NULL,
    used_at DATETIME NULL,
    UNIQUE KEY portal_tokens_hash (token_hash),
    KEY portal_tokens_account (account_id, purpose),
    CONSTRAINT portal_tokens_account FOREIGN KEY (account_id) REFERENCES portal_accounts (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS portal_sessions (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    token_hash CHAR(64) NOT NULL,
    account_id BIGINT UNSIGNED NOT NULL,
    created_at DATETIME NOT NULL,
    last_seen_at DATETIME NOT NULL,
    expires_at DATETIME NOT NULL,
    revoked_at DATETIME NULL,
    client_ip VARCHAR(45) NULL,
    UNIQUE KEY portal_sessions_hash (token_hash),
    KEY portal_sessions_account (account_id),
    CONSTRAINT portal_sessions_account FOREIGN KEY (account_id) REFERENCES portal_accounts (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
