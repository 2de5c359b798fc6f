"""The grants item's judgement, over SHOW GRANTS lines as MariaDB and MySQL print them.

The database round trip (a real user, real GRANTs) is in test_check_database.py; these pin
down the policy: what fails, what only warns, what is missing.
"""

from __future__ import annotations

from agent.check.grants import (
    GrantVerdict,
    grant_statements,
    granted_roles,
    judge_grants,
    needed_privileges,
    parse_grant,
    quote_account,
)

DB = "practice"
TABLES = ["appointments", "patients", "providers", "portal_audit", "portal_sessions"]
NEEDED = needed_privileges(TABLES)
USAGE = "GRANT USAGE ON *.* TO `portico`@`%` IDENTIFIED BY PASSWORD '*9A9B811810D313B9807'"
EXACT = [
    USAGE,
    "GRANT SELECT, INSERT, UPDATE ON `practice`.`appointments` TO `portico`@`%`",
    "GRANT SELECT, INSERT, UPDATE ON `practice`.`patients` TO `portico`@`%`",
    "GRANT SELECT ON `practice`.`providers` TO `portico`@`%`",
    "GRANT SELECT, INSERT ON `practice`.`portal_audit` TO `portico`@`%`",
    "GRANT SELECT, INSERT, UPDATE, DELETE ON `practice`.`portal_sessions` TO `portico`@`%`",
]


def judge(*lines: str) -> GrantVerdict:
    grants = [g for line in lines if (g := parse_grant(line)) is not None]
    return judge_grants(grants, DB, NEEDED)


def test_the_least_privilege_set_is_exactly_right() -> None:
    verdict = judge(*EXACT)

    assert verdict == GrantVerdict()


def test_practice_tables_are_read_only_except_appointments_and_patients() -> None:
    assert NEEDED["providers"] == {"SELECT"}
    assert NEEDED["appointments"] == NEEDED["patients"] == {"SELECT", "INSERT", "UPDATE"}
    assert NEEDED["portal_sessions"] == {"SELECT", "INSERT", "UPDATE", "DELETE"}


def test_the_audit_table_is_append_only_so_update_on_it_is_more_than_needed() -> None:
    verdict = judge(*EXACT, "GRANT UPDATE, DELETE ON `practice`.`portal_audit` TO `portico`@`%`")

    assert verdict.too_wide == []
    assert verdict.more_than_needed == [
        "DELETE, UPDATE ON `practice`.`portal_audit` (not needed there)"
    ]


def test_an_administrator_fails_on_all_privileges_and_grant_option() -> None:
    verdict = judge(
        "GRANT ALL PRIVILEGES ON *.* TO `root`@`localhost` WITH GRANT OPTION",
        "GRANT PROXY ON ''@'%' TO 'root'@'localhost' WITH GRANT OPTION",
    )

    assert verdict.administrator
    assert "ALL PRIVILEGES ON *.* (every database on the server)" in verdict.too_wide
    assert "GRANT OPTION ON *.* (it could give its rights away)" in verdict.too_wide
    assert "PROXY ON ''@'%'" in verdict.too_wide
    assert verdict.missing == {}  # it can do everything, that is the problem


def test_super_and_file_on_star_star_fail_even_with_exact_table_rights() -> None:
    verdict = judge(*EXACT, "GRANT FILE, SUPER ON *.* TO `portico`@`%`")

    assert verdict.too_wide == ["FILE, SUPER ON *.* (every database on the server)"]


def test_rights_on_another_database_fail() -> None:
    verdict = judge(*EXACT, "GRANT SELECT ON `billing`.* TO `portico`@`%`")

    assert verdict.too_wide == ["SELECT ON `billing`.* (another database)"]
    assert not verdict.administrator


def test_drop_on_the_practice_database_fails() -> None:
    verdict = judge(*EXACT, "GRANT DROP, TRIGGER ON `practice`.* TO `portico`@`%`")

    assert verdict.too_wide == ["DROP, TRIGGER ON `practice`.*"]


def test_data_rights_on_the_whole_database_only_warn_and_cover_every_need() -> None:
    # What an admin in a hurry types; it lets the agent rewrite any of the practice's tables.
    verdict = judge(USAGE, "GRANT SELECT, INSERT, UPDATE, DELETE ON `practice`.* TO `portico`@`%`")

    assert verdict.too_wide == []
    assert verdict.missing == {}
    assert verdict.more_than_needed == [
        "DELETE, INSERT, SELECT, UPDATE ON `practice`.* (every table, the practice's own included)"
    ]


def test_reading_a_table_portico_does_not_use_warns() -> None:
    verdict = judge(*EXACT, "GRANT SELECT ON `practice`.`billing` TO `portico`@`%`")

    assert verdict.more_than_needed == [
        "SELECT ON `practice`.`billing` (a table Portico does not use)"
    ]


def test_what_migrate_needs_is_allowed_and_noted() -> None:
    verdict = judge(
        *EXACT,
        "GRANT CREATE, ALTER, INDEX, REFERENCES ON `practice`.* TO `portico`@`%`",
        "GRANT INSERT ON `practice`.`portal_migrations` TO `portico`@`%`",
    )

    assert verdict.too_wide == verdict.more_than_needed == []
    assert verdict.can_migrate


def test_missing_rights_are_listed_per_table() -> None:
    verdict = judge(*EXACT[:3])

    assert verdict.missing == {
        "providers": {"SELECT"},
        "portal_audit": {"SELECT", "INSERT"},
        "portal_sessions": {"SELECT", "INSERT", "UPDATE", "DELETE"},
    }


def test_a_column_level_right_counts_for_its_table() -> None:
    lines = [line for line in EXACT if "`patients`" not in line]
    verdict = judge(
        *lines,
        "GRANT SELECT, INSERT (`first_name`, `email`), UPDATE (`email`) "
        "ON `practice`.`patients` TO `portico`@`%`",
    )

    assert verdict == GrantVerdict()


def test_an_escaped_underscore_in_the_database_name_is_that_database() -> None:
    grants = [parse_grant(line.replace("`practice`", "`practice\\_db`")) for line in EXACT]
    assert grants[1] is not None and grants[1].database == "practice\\_db"

    verdict = judge_grants([g for g in grants if g], "practice_db", NEEDED)

    assert verdict == GrantVerdict()


def test_a_routine_grant_fails() -> None:
    verdict = judge(*EXACT, "GRANT EXECUTE ON PROCEDURE `practice`.`purge` TO `portico`@`%`")

    assert verdict.too_wide == ["EXECUTE ON PROCEDURE `practice`.`purge`"]


def test_role_lines_name_their_roles_and_grant_nothing_themselves() -> None:
    assert granted_roles("GRANT `portico_role` TO `portico`@`%`") == ["portico_role"]
    assert granted_roles("GRANT `r1`@`%`,`r2`@`%` TO `portico`@`%`") == ["r1", "r2"]  # MySQL
    assert granted_roles(EXACT[1]) == []
    assert parse_grant("GRANT `portico_role` TO `portico`@`%`") is None
    assert parse_grant("SET DEFAULT ROLE `portico_role` FOR `portico`@`%`") is None


def test_the_statements_quote_names_and_list_one_table_each() -> None:
    statements = grant_statements("my`db", "port'ico@10.0.0.%", {"patients": NEEDED["patients"]})

    assert statements == [
        "GRANT SELECT, INSERT, UPDATE ON `my``db`.`patients` TO 'port\\'ico'@'10.0.0.%';"
    ]
    assert quote_account("portico@localhost") == "'portico'@'localhost'"
