-- Patients may start a conversation with the office (issue 11), about one of the topics the
-- office lists in agent.yaml (`messages.topics`). The topic is kept with the thread so staff
-- see it in `messages list`; office threads have none. A patient-started thread is also told
-- apart by created_by (patient:<id>) and its first message's sender.

ALTER TABLE portal_message_threads ADD COLUMN IF NOT EXISTS topic VARCHAR(60) NULL AFTER subject;
