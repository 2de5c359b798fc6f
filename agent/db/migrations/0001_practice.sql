-- The practice-management tables Portico reads and writes. In a real office they belong to the
-- practice-management system; docs/schema.md documents the shape Portico expects, and the demo
-- and tests create them with this file. Every DATETIME is UTC.

CREATE TABLE IF NOT EXISTS patients (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    first_name VARCHAR(100) NOT NULL,
    last_name VARCHAR(100) NOT NULL,
    date_of_birth DATE NOT NULL,
    email VARCHAR(254) NULL,
    home_zip VARCHAR(16) NULL,
    phone VARCHAR(32) NULL,
    created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    KEY patients_email (email)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS providers (
    id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    display_name VARCHAR(120) NOT NULL,
    active TINYINT(1) NOT NULL DEFAULT 1,
    online_booking TINYINT(1) NOT NULL DEFAULT 1
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS appointment_types (
    id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    name VARCHAR(120) NOT NULL,
    duration_minutes SMALLINT UNSIGNED NOT NULL,
    online_bookable TINYINT(1) NOT NULL DEFAULT 1,
    CONSTRAINT appointment_types_duration CHECK (duration_minutes BETWEEN 5 AND 480)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS provider_appointment_types (
    provider_id INT UNSIGNED NOT NULL,
    appointment_type_id INT UNSIGNED NOT NULL,
    PRIMARY KEY (provider_id, appointment_type_id),
    CONSTRAINT pat_provider FOREIGN KEY (provider_id) REFERENCES providers (id),
    CONSTRAINT pat_type FOREIGN KEY (appointment_type_id) REFERENCES appointment_types (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Weekly working hours in the practice's local time; weekday 0 = Monday ... 6 = Sunday.
-- Several rows per day make a split day (e.g. 08:00-12:00 and 13:00-17:00).
CREATE TABLE IF NOT EXISTS provider_hours (
    id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    provider_id INT UNSIGNED NOT NULL,
    weekday TINYINT UNSIGNED NOT NULL,
    start_time TIME NOT NULL,
    end_time TIME NOT NULL,
    KEY provider_hours_provider (provider_id),
    CONSTRAINT provider_hours_provider FOREIGN KEY (provider_id) REFERENCES providers (id),
    CONSTRAINT provider_hours_weekday CHECK (weekday <= 6),
    CONSTRAINT provider_hours_order CHECK (start_time < end_time)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS provider_time_off (
    id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    provider_id INT UNSIGNED NOT NULL,
    starts_at DATETIME NOT NULL,
    ends_at DATETIME NOT NULL,
    KEY provider_time_off_range (provider_id, starts_at),
    CONSTRAINT provider_time_off_provider FOREIGN KEY (provider_id) REFERENCES providers (id),
    CONSTRAINT provider_time_off_order CHECK (starts_at < ends_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS appointments (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    patient_id BIGINT UNSIGNED NOT NULL,
    provider_id INT UNSIGNED NOT NULL,
    appointment_type_id INT UNSIGNED NOT NULL,
    starts_at DATETIME NOT NULL,
    ends_at DATETIME NOT NULL,
    status ENUM('booked', 'cancelled', 'completed', 'no_show') NOT NULL DEFAULT 'booked',
    source ENUM('office', 'portal') NOT NULL DEFAULT 'office',
    late_cancel TINYINT(1) NOT NULL DEFAULT 0,
    cancelled_at DATETIME NULL,
    cancelled_by ENUM('patient', 'staff') NULL,
    created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    KEY appointments_provider_time (provider_id, starts_at),
    KEY appointments_patient_time (patient_id, starts_at),
    CONSTRAINT appointments_patient FOREIGN KEY (patient_id) REFERENCES patients (id),
    CONSTRAINT appointments_provider FOREIGN KEY (provider_id) REFERENCES providers (id),
    CONSTRAINT appointments_type FOREIGN KEY (appointment_type_id) REFERENCES appointment_types (id),
    CONSTRAINT appointments_order CHECK (starts_at < ends_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
