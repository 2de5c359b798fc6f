-- A sign-up is answered by the mail worker, as "forgot password" is (0009): the request only
-- queues its row, identical for every person, and the worker matches it against the charts,
-- issues the link (token_hash, NULL until then) or the "call the office" email, and audits it
-- with the address it came from (client_ip). Whether someone is a patient here no longer
-- changes the work done before the answer. The email index serves the worker's cap on live
-- links per address (a stranger's mailbox is not flooded with sign-ups).
ALTER TABLE portal_registrations MODIFY token_hash CHAR(64) NULL;
ALTER TABLE portal_registrations ADD COLUMN IF NOT EXISTS client_ip VARCHAR(45) NULL AFTER username;
CREATE INDEX IF NOT EXISTS portal_registrations_email ON portal_registrations (email);
