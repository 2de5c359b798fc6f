-- Portal forms (agent/forms): definitions loaded by `portico-agent forms add FILE`, and the
-- copies staff assign to patients, which the patients fill in and send from the portal.
-- A form key (e.g. new-patient-intake) has numbered versions: adding a file with a key already
-- loaded makes the next version, and an assignment points at the exact version it was given,
-- so a later edit never changes the questions of a form a patient is filling in or has sent.
-- definition and answers are JSON written by the agent. answers hold what the patient typed
-- (PHI): they are only read back through the audited service, and never logged. Every
-- DATETIME is UTC.

CREATE TABLE IF NOT EXISTS portal_forms (
    id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    form_key VARCHAR(64) NOT NULL,
    version INT UNSIGNED NOT NULL,
    title VARCHAR(200) NOT NULL,
    definition MEDIUMTEXT NOT NULL,
    -- SHA-256 of definition: adding the same file again does not make a new version.
    definition_hash CHAR(64) NOT NULL,
    added_at DATETIME NOT NULL,
    added_by VARCHAR(64) NOT NULL,
    UNIQUE KEY portal_forms_version (form_key, version),
    CONSTRAINT portal_forms_definition_json CHECK (JSON_VALID(definition))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- status: assigned (not opened for writing yet), draft (saved, not sent), submitted (sent;
-- final: the answers no longer change). answers is NULL until the first save.
CREATE TABLE IF NOT EXISTS portal_form_assignments (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    form_id INT UNSIGNED NOT NULL,
    patient_id BIGINT UNSIGNED NOT NULL,
    assigned_at DATETIME NOT NULL,
    assigned_by VARCHAR(64) NOT NULL,
    status ENUM('assigned', 'draft', 'submitted') NOT NULL DEFAULT 'assigned',
    answers MEDIUMTEXT NULL,
    draft_saved_at DATETIME NULL,
    submitted_at DATETIME NULL,
    KEY portal_form_assignments_patient (patient_id, status, assigned_at),
    KEY portal_form_assignments_form (form_id, status),
    CONSTRAINT portal_form_assignments_form FOREIGN KEY (form_id) REFERENCES portal_forms (id),
    CONSTRAINT portal_form_assignments_patient FOREIGN KEY (patient_id) REFERENCES patients (id),
    CONSTRAINT portal_form_assignments_answers_json CHECK (answers IS NULL OR JSON_VALID(answers)),
    CONSTRAINT portal_form_assignments_submitted CHECK (
        (status = 'submitted') = (submitted_at IS NOT NULL)
    )
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
