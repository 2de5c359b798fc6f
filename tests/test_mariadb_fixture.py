from __future__ import annotations

from tests.support.database import MariaDB


def test_database_is_fresh_and_utf8mb4(mariadb: MariaDB) -> None:
    assert mariadb.database.startswith("portico_test_")
    with mariadb.connect() as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT default_character_set_name, default_collation_name"
            " FROM information_schema.schemata WHERE schema_name = %s",
            (mariadb.database,),
        )
        assert cur.fetchone() == ("utf8mb4", "utf8mb4_unicode_ci")


def test_four_byte_characters_round_trip(mariadb: MariaDB) -> None:
    # Patients type emoji into messages; utf8 (3-byte) would reject or mangle them.
    text = "thanks \U0001f44d see you \U0001f9d1\u200d\u2695\ufe0f"
    with mariadb.connect() as conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE fixture_probe (id INT PRIMARY KEY, body TEXT NOT NULL)")
        cur.execute("INSERT INTO fixture_probe (id, body) VALUES (1, %s)", (text,))
        cur.execute("SELECT body FROM fixture_probe WHERE id = 1")
        assert cur.fetchone() == (text,)
        cur.execute("DROP TABLE fixture_probe")
