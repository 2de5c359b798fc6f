-- The practice's clinical tables, read (never written) by the records page and its FHIR
-- download. In a real office they belong to the practice-management system; docs/schema.md
-- documents the shape Portico expects, and the demo and tests create them with this file.
-- Every DATETIME is UTC; a DATE is a calendar day as the office recorded it. Codes are
-- optional: an office that does not code its records still gets readable text everywhere.

CREATE TABLE IF NOT EXISTS patient_allergies (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    patient_id BIGINT UNSIGNED NOT NULL,
    substance VARCHAR(200) NOT NULL,
    -- RxNorm for medicines, SNOMED CT for foods and everything else.
    code_system ENUM('rxnorm', 'snomed') NULL,
    code VARCHAR(32) NULL,
    category ENUM('medication', 'food', 'environment', 'biologic') NULL,
    reaction VARCHAR(200) NULL,
    severity ENUM('mild', 'moderate', 'severe') NULL,
    status ENUM('active', 'inactive', 'resolved') NOT NULL DEFAULT 'active',
    noted_on DATE NULL,
    note VARCHAR(1000) NULL,
    KEY patient_allergies_patient (patient_id),
    CONSTRAINT patient_allergies_patient FOREIGN KEY (patient_id) REFERENCES patients (id),
    CONSTRAINT patient_allergies_code CHECK ((code IS NULL) = (code_system IS NULL)),
    CONSTRAINT patient_allergies_severity CHECK (severity IS NULL OR reaction IS NOT NULL)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS patient_medications (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    patient_id BIGINT UNSIGNED NOT NULL,
    name VARCHAR(200) NOT NULL,
    rxnorm_code VARCHAR(16) NULL,
    dosage VARCHAR(300) NULL,
    status ENUM('active', 'completed', 'stopped', 'on_hold') NOT NULL DEFAULT 'active',
    started_on DATE NULL,
    ended_on DATE NULL,
    prescriber_id INT UNSIGNED NULL,
    note VARCHAR(1000) NULL,
    KEY patient_medications_patient (patient_id),
    CONSTRAINT patient_medications_patient FOREIGN KEY (patient_id) REFERENCES patients (id),
    CONSTRAINT patient_medications_prescriber FOREIGN KEY (prescriber_id) REFERENCES providers (id),
    CONSTRAINT patient_medications_order CHECK (ended_on IS NULL OR started_on IS NULL OR started_on <= ended_on)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS patient_problems (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    patient_id BIGINT UNSIGNED NOT NULL,
    description VARCHAR(200) NOT NULL,
    icd10_code VARCHAR(16) NULL,
    snomed_code VARCHAR(32) NULL,
    -- FHIR's condition-clinical codes, so the download needs no translation table.
    status ENUM('active', 'recurrence', 'relapse', 'inactive', 'remission', 'resolved') NOT NULL DEFAULT 'active',
    onset_on DATE NULL,
    resolved_on DATE NULL,
    note VARCHAR(1000) NULL,
    KEY patient_problems_patient (patient_id),
    CONSTRAINT patient_problems_patient FOREIGN KEY (patient_id) REFERENCES patients (id),
    -- A problem that has a resolution date is no longer active (FHIR invariant con-4).
    CONSTRAINT patient_problems_resolved CHECK (resolved_on IS NULL OR status IN ('inactive', 'remission', 'resolved')),
    CONSTRAINT patient_problems_order CHECK (resolved_on IS NULL OR onset_on IS NULL OR onset_on <= resolved_on)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Visit summaries: one row per finished visit, written by the provider after it.
CREATE TABLE IF NOT EXISTS encounters (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    patient_id BIGINT UNSIGNED NOT NULL,
    provider_id INT UNSIGNED NULL,
    appointment_id BIGINT UNSIGNED NULL,
    started_at DATETIME NOT NULL,
    ended_at DATETIME NULL,
    reason VARCHAR(200) NOT NULL,
    summary TEXT NULL,
    KEY encounters_patient_time (patient_id, started_at),
    CONSTRAINT encounters_patient FOREIGN KEY (patient_id) REFERENCES patients (id),
    CONSTRAINT encounters_provider FOREIGN KEY (provider_id) REFERENCES providers (id),
    CONSTRAINT encounters_appointment FOREIGN KEY (appointment_id) REFERENCES appointments (id),
    CONSTRAINT encounters_order CHECK (ended_at IS NULL OR started_at <= ended_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- `value` is text as the laboratory reported it: "5.4", "Negative", "<0.5". Portico sends a
-- plain decimal as a number with its unit and anything else as text.
CREATE TABLE IF NOT EXISTS lab_results (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    patient_id BIGINT UNSIGNED NOT NULL,
    encounter_id BIGINT UNSIGNED NULL,
    test_name VARCHAR(200) NOT NULL,
    loinc_code VARCHAR(16) NULL,
    value VARCHAR(200) NOT NULL,
    unit VARCHAR(32) NULL,
    reference_range VARCHAR(64) NULL,
    flag ENUM('normal', 'low', 'high', 'critical_low', 'critical_high', 'abnormal') NULL,
    status ENUM('preliminary', 'final', 'amended', 'corrected') NOT NULL DEFAULT 'final',
    collected_at DATETIME NOT NULL,
    note VARCHAR(1000) NULL,
    KEY lab_results_patient_time (patient_id, collected_at),
    CONSTRAINT lab_results_patient FOREIGN KEY (patient_id) REFERENCES patients (id),
    CONSTRAINT lab_results_encounter FOREIGN KEY (encounter_id) REFERENCES encounters (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
