-- Portico's own tables for online booking: idempotency records and the audit trail.

-- A booking request carries an idempotency key; the first reply is stored so a repeat of the
-- same key by the same patient gets the same reply instead of a second appointment.
CREATE TABLE IF NOT EXISTS portal_idempotency (
    patient_id BIGINT UNSIGNED NOT NULL,
    idempotency_key VARCHAR(128) NOT NULL,
    method VARCHAR(64) NOT NULL,
    request_hash CHAR(64) NOT NULL,
    response TEXT NOT NULL,
    created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (patient_id, idempotency_key),
    KEY portal_idempotency_created (created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Append-only: Portico only ever INSERTs here. `detail` holds ids and codes, never PHI.
CREATE TABLE IF NOT EXISTS portal_audit (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    occurred_at DATETIME(6) NOT NULL,
    actor VARCHAR(64) NOT NULL,
    patient_id BIGINT UNSIGNED NULL,
    action VARCHAR(64) NOT NULL,
    outcome VARCHAR(32) NOT NULL,
    client_ip VARCHAR(45) NULL,
    detail VARCHAR(255) NULL,
    KEY portal_audit_patient (patient_id, occurred_at),
    KEY portal_audit_time (occurred_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
