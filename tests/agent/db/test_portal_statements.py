"""The portal-only form of a migration statement (agent/db/portal_schema.py), one rule each."""

from __future__ import annotations

import pytest

from agent.db.migrate import Migration, MigrationError
from agent.db.portal_schema import UnclassifiedStatement, portal_statement


def test_a_statement_on_a_practice_table_is_left_out() -> None:
    assert portal_statement("CREATE TABLE IF NOT EXISTS patients (id INT PRIMARY KEY)") is None
    assert portal_statement("ALTER TABLE appointments ADD COLUMN note TEXT") is None
    assert portal_statement("CREATE INDEX IF NOT EXISTS p_email ON patients (email)") is None


def test_a_foreign_key_to_a_practice_table_goes_and_one_to_a_portal_table_stays() -> None:
    statement = (
        "CREATE TABLE IF NOT EXISTS portal_things (\n"
        "    id INT NOT NULL PRIMARY KEY,\n"
        "    patient_id BIGINT NOT NULL,\n"
        "    account_id BIGINT NOT NULL,\n"
        "    CONSTRAINT t_patient FOREIGN KEY (patient_id) REFERENCES patients (id)"
        " ON DELETE CASCADE,\n"
        "    CONSTRAINT t_account FOREIGN KEY (account_id) REFERENCES portal_accounts (id)\n"
        ") ENGINE=InnoDB"
    )
    assert portal_statement(statement) == (
        "CREATE TABLE IF NOT EXISTS portal_things (\n"
        "    id INT NOT NULL PRIMARY KEY,\n"
        "    patient_id BIGINT NOT NULL,\n"
        "    account_id BIGINT NOT NULL,\n"
        "    CONSTRAINT t_account FOREIGN KEY (account_id) REFERENCES portal_accounts (id)\n"
        ") ENGINE=InnoDB"
    )


def test_portal_statements_without_practice_references_are_unchanged() -> None:
    for statement in (
        "ALTER TABLE portal_registrations MODIFY token_hash CHAR(64) NULL",
        "CREATE INDEX IF NOT EXISTS portal_registrations_email ON portal_registrations (email)",
    ):
        assert portal_statement(statement) == statement


@pytest.mark.parametrize(
    "statement",
    [
        # A reference in a form the rule does not take apart: refused, not passed through.
        "ALTER TABLE portal_accounts ADD FOREIGN KEY (patient_id) REFERENCES patients (id)",
        # A statement whose table cannot be told.
        "INSERT INTO portal_forms (form_key) VALUES ('x')",
        "RENAME TABLE portal_a TO portal_b",
    ],
)
def test_what_the_rule_cannot_classify_is_an_error(statement: str) -> None:
    with pytest.raises(UnclassifiedStatement):
        portal_statement(statement)


def test_the_runner_names_the_migration_whose_statement_it_cannot_classify() -> None:
    migration = Migration(42, "odd", "UPDATE portal_accounts SET status = 'active';")
    assert migration.statements_for("portico") == ["UPDATE portal_accounts SET status = 'active'"]
    with pytest.raises(MigrationError, match="migration 0042_odd: cannot tell which table"):
        migration.statements_for("openemr")
