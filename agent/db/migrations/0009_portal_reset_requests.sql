-- "Forgot password" requests waiting to be answered (agent/access/recovery.py). The request
-- path only writes one row here, whether or not the login belongs to an account, so the
-- answer takes the same time either way; looking the account up, the hourly cap, the token
-- and the email happen afterwards, when the outbox worker runs, and the row is deleted then.
-- login: the normalised email address or username as typed (NULL when it could be neither).
CREATE TABLE IF NOT EXISTS portal_reset_requests (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    login VARCHAR(254) NULL,
    client_ip VARCHAR(45) NULL,
    requested_at DATETIME(6) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
