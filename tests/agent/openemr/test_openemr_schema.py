"""The OpenEMR database the OpenEMR tests run against: OpenEMR's tables as OpenEMR declares them
(sql/database.sql of OpenEMR 8.2.0-dev, v_database 541), under OpenEMR's sql_mode and a strict
server's. The expected values below were read from that file by hand, not from schema.sql."""

from __future__ import annotations

from typing import Any

import phpserialize
import pymysql
import pytest

from agent.db.pool import Database
from tests.support.database import MariaDB
from tests.support.openemr import (
    OPENEMR_SQL_MODE,
    STRICT_SQL_MODE,
    OpenEMRDatabase,
    openemr_database,
    schema_tables,
)
from tests.support.openemr.recurrspec import NO_REPEAT, PORTAL_NO_REPEAT, php_serialize

# Columns per table in OpenEMR's declarations.
COLUMNS = {
    "version": 7,
    "globals": 3,
    "facility": 40,
    "users": 66,
    "patient_data": 132,
    "openemr_postcalendar_categories": 20,
    "openemr_postcalendar_events": 39,
    "list_options": 16,
    "codes": 16,
    "lists": 36,
    "lists_medication": 13,
    "prescriptions": 49,
    "immunizations": 31,
    "procedure_order": 36,
    "procedure_order_code": 16,
    "procedure_report": 13,
    "procedure_result": 16,
    "pnotes": 16,
    "form_encounter": 35,
}

# NOT NULL, no default, not auto-increment: what a strict server refuses to leave out.
REQUIRED = {
    ("globals", "gl_name"),
    ("openemr_postcalendar_categories", "pc_cattype"),
    ("openemr_postcalendar_events", "pc_multiple"),
    ("openemr_postcalendar_events", "pc_eventDate"),
    ("prescriptions", "txDate"),
    ("prescriptions", "usage_category_title"),
    ("prescriptions", "request_intent_title"),
    ("lists_medication", "usage_category_title"),
    ("lists_medication", "request_intent_title"),
    ("immunizations", "update_date"),
    ("procedure_order", "patient_id"),
    ("procedure_order_code", "procedure_order_id"),
    ("procedure_order_code", "procedure_order_seq"),
    ("procedure_result", "procedure_report_id"),
}

# openemr_postcalendar_events in OpenEMR's column order (sql/database.sql:8261-8300).
EVENT_COLUMNS = [
    "pc_eid",
    "pc_catid",
    "pc_multiple",
    "pc_aid",
    "pc_pid",
    "pc_gid",
    "pc_title",
    "pc_time",
    "pc_hometext",
    "pc_comments",
    "pc_counter",
    "pc_topic",
    "pc_informant",
    "pc_eventDate",
    "pc_endDate",
    "pc_duration",
    "pc_recurrtype",
    "pc_recurrspec",
    "pc_recurrfreq",
    "pc_startTime",
    "pc_endTime",
    "pc_alldayevent",
    "pc_location",
    "pc_conttel",
    "pc_contname",
    "pc_contemail",
    "pc_website",
    "pc_fee",
    "pc_eventstatus",
    "pc_sharing",
    "pc_language",
    "pc_apptstatus",
    "pc_prefcatid",
    "pc_facility",
    "pc_sendalertsms",
    "pc_sendalertemail",
    "pc_billing_location",
    "pc_room",
    "uuid",
]

NO_DEFAULT_VALUE, BAD_NULL, BAD_INTEGER = 1364, 1048, 1366


def columns(db: OpenEMRDatabase) -> list[dict[str, Any]]:
    return db.query(
        "SELECT table_name AS t, column_name AS c, is_nullable AS nullable,"
        " column_default AS dflt, column_type AS type, extra"
        " FROM information_schema.columns WHERE table_schema = DATABASE()"
        " ORDER BY table_name, ordinal_position"
    )


def test_the_schema_declares_every_table_with_openemrs_column_count(
    openemr_db: OpenEMRDatabase,
) -> None:
    counts: dict[str, int] = {}
    for column in columns(openemr_db):
        counts[column["t"]] = counts.get(column["t"], 0) + 1
    assert counts == COLUMNS
    assert sorted(schema_tables()) == sorted(COLUMNS)
    tables = openemr_db.query(
        "SELECT engine, table_collation FROM information_schema.tables"
        " WHERE table_schema = DATABASE()"
    )
    assert {(t["engine"], t["table_collation"]) for t in tables} == {
        ("InnoDB", "utf8mb4_general_ci")
    }


def test_the_calendar_table_has_openemrs_columns_types_and_indexes(
    openemr_db: OpenEMRDatabase,
) -> None:
    events = [c for c in columns(openemr_db) if c["t"] == "openemr_postcalendar_events"]
    assert [c["c"] for c in events] == EVENT_COLUMNS
    by_name = {c["c"]: c for c in events}
    assert by_name["pc_multiple"]["type"] == "int(10) unsigned"
    assert by_name["pc_aid"]["type"] == "varchar(30)"
    assert by_name["pc_pid"]["type"] == "varchar(11)"
    assert by_name["pc_duration"]["type"] == "bigint(20)"
    assert (by_name["pc_apptstatus"]["nullable"], by_name["pc_apptstatus"]["dflt"]) == ("NO", "'-'")
    assert (by_name["pc_prefcatid"]["nullable"], by_name["pc_prefcatid"]["dflt"]) == ("NO", "0")
    assert by_name["pc_endDate"]["nullable"] == "YES"
    assert by_name["uuid"]["type"] == "binary(16)"
    indexes = openemr_db.query(
        "SELECT index_name AS i, GROUP_CONCAT(column_name ORDER BY seq_in_index) AS cols"
        " FROM information_schema.statistics WHERE table_schema = DATABASE()"
        " AND table_name = 'openemr_postcalendar_events' GROUP BY index_name"
    )
    assert {i["i"]: i["cols"] for i in indexes} == {
        "PRIMARY": "pc_eid",
        "basic_event": "pc_catid,pc_aid,pc_eventDate,pc_endDate,pc_eventstatus,pc_sharing,pc_topic",
        "pc_eventDate": "pc_eventDate",
        "uuid": "uuid",
    }


def test_the_not_null_columns_without_a_default_are_openemrs(openemr_db: OpenEMRDatabase) -> None:
    required = {
        (c["t"], c["c"])
        for c in columns(openemr_db)
        if c["nullable"] == "NO" and c["dflt"] is None and "auto_increment" not in c["extra"]
    }
    assert required == REQUIRED


def test_patient_data_is_keyed_by_a_unique_pid_not_by_its_id(openemr_db: OpenEMRDatabase) -> None:
    by_name = {c["c"]: c for c in columns(openemr_db) if c["t"] == "patient_data"}
    assert by_name["allow_patient_portal"]["type"] == "varchar(31)"
    assert by_name["allow_patient_portal"]["dflt"] == "''"
    assert by_name["deceased_date"]["nullable"] == "YES"
    unique = openemr_db.query(
        "SELECT index_name AS i FROM information_schema.statistics"
        " WHERE table_schema = DATABASE() AND table_name = 'patient_data' AND non_unique = 0"
    )
    assert {u["i"] for u in unique} == {"pid", "uuid"}


def test_the_version_row_is_the_installers(openemr_db: OpenEMRDatabase) -> None:
    assert openemr_db.query("SELECT * FROM version") == [
        {
            "v_major": 8,
            "v_minor": 2,
            "v_patch": 0,
            "v_realpatch": 0,
            "v_tag": "-dev",
            "v_database": 541,
            "v_acl": 13,
        }
    ]


async def test_the_agents_connections_run_in_the_fixtures_sql_mode(
    openemr_db: OpenEMRDatabase,
) -> None:
    def session_mode(cursor: Any) -> str:
        cursor.execute("SELECT @@SESSION.sql_mode AS m")
        return str(cursor.fetchone()["m"])

    database = Database(openemr_db.settings)
    try:
        assert await database.transaction(session_mode) == openemr_db.sql_mode
    finally:
        await database.close()
    assert openemr_db.query("SELECT @@SESSION.sql_mode AS m") == [{"m": openemr_db.sql_mode}]
    assert openemr_db.sql_mode in (OPENEMR_SQL_MODE, STRICT_SQL_MODE)


def test_the_schema_loads_the_same_in_both_modes(mariadb: MariaDB) -> None:
    shapes = []
    for mode in (OPENEMR_SQL_MODE, STRICT_SQL_MODE):
        with openemr_database(mariadb, mode) as db:
            shape = [(c["t"], c["c"], c["type"], c["nullable"], c["dflt"]) for c in columns(db)]
            shapes.append(shape)
    assert shapes[0] == shapes[1]
    assert len(shapes[0]) == sum(COLUMNS.values())


def portico_booking(**changes: Any) -> dict[str, Any]:
    """The row README 3 recommends for a Portico booking, every column named."""
    row = {
        "pc_catid": 5,
        "pc_multiple": 0,
        "pc_aid": "1",
        "pc_pid": "1001",
        "pc_gid": 0,
        "pc_title": "Office Visit",
        "pc_time": "2026-10-20 14:03:00",
        "pc_hometext": "",
        "pc_informant": None,
        "pc_eventDate": "2026-10-26",
        "pc_endDate": None,
        "pc_duration": 900,
        "pc_recurrtype": 0,
        "pc_recurrspec": NO_REPEAT.spec,
        "pc_recurrfreq": 0,
        "pc_startTime": "09:00:00",
        "pc_endTime": "09:15:00",
        "pc_alldayevent": 0,
        "pc_location": "",
        "pc_eventstatus": 1,
        "pc_sharing": 1,
        "pc_apptstatus": "^",
        "pc_prefcatid": 0,
        "pc_facility": 3,
        "pc_billing_location": 3,
        "pc_room": "",
        "uuid": bytes(range(16)),
    }
    row.update(changes)
    return row


def insert_event(connection: pymysql.connections.Connection[Any], row: dict[str, Any]) -> int:
    names = ", ".join(f"`{name}`" for name in row)
    marks = ", ".join(["%s"] * len(row))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO openemr_postcalendar_events ({names}) VALUES ({marks})",
            tuple(row.values()),
        )
        return int(cursor.lastrowid)


def test_the_recommended_portico_row_inserts_in_both_modes(openemr_db: OpenEMRDatabase) -> None:
    with openemr_db.connect() as connection:
        eid = insert_event(connection, portico_booking())
    [row] = openemr_db.query("SELECT * FROM openemr_postcalendar_events WHERE pc_eid = %s", (eid,))
    assert (row["pc_multiple"], row["pc_aid"], row["pc_pid"]) == (0, "1", "1001")
    assert str(row["pc_eventDate"]) == "2026-10-26" and row["pc_endDate"] is None
    assert (row["pc_duration"], row["pc_apptstatus"], row["pc_prefcatid"]) == (900, "^", 0)
    assert (row["pc_eventstatus"], row["pc_sharing"], row["pc_facility"]) == (1, 1, 3)
    assert row["uuid"] == bytes(range(16))


@pytest.mark.parametrize("column", ["pc_multiple", "pc_eventDate"])
def test_a_strict_server_refuses_a_booking_without_a_required_column(
    openemr_strict_db: OpenEMRDatabase, column: str
) -> None:
    row = portico_booking()
    del row[column]
    with openemr_strict_db.connect() as connection, pytest.raises(pymysql.MySQLError) as error:
        insert_event(connection, row)
    assert error.value.args[0] == NO_DEFAULT_VALUE
    # OpenEMR's own sessions get away with it, which is why its writers leave them out.
    with openemr_strict_db.as_openemr() as connection:
        insert_event(connection, row)


def test_a_strict_server_refuses_the_empty_string_openemrs_dialog_sends_for_pc_multiple(
    openemr_strict_db: OpenEMRDatabase,
) -> None:
    with openemr_strict_db.connect() as connection, pytest.raises(pymysql.MySQLError) as error:
        insert_event(connection, portico_booking(pc_multiple=""))
    assert error.value.args[0] == BAD_INTEGER
    with openemr_strict_db.as_openemr() as connection:
        eid = insert_event(connection, portico_booking(pc_multiple="", uuid=None))
    rows = openemr_strict_db.query(
        "SELECT pc_multiple FROM openemr_postcalendar_events WHERE pc_eid = %s", (eid,)
    )
    assert rows == [{"pc_multiple": 0}]


def test_null_into_pc_prefcatid_fails_even_in_openemrs_mode(openemr_db: OpenEMRDatabase) -> None:
    """The OpenEMR portal's own bug (openemr/openemr#12436): explicit NULL into a NOT NULL
    column is refused for a single-row INSERT whatever the mode."""
    with openemr_db.connect() as connection, pytest.raises(pymysql.MySQLError) as error:
        insert_event(connection, portico_booking(pc_prefcatid=None))
    assert error.value.args[0] == BAD_NULL


@pytest.mark.parametrize("spec", [NO_REPEAT.spec, PORTAL_NO_REPEAT.spec])
def test_the_hand_serializer_writes_what_phps_serialize_writes(spec: str) -> None:
    values = phpserialize.loads(spec.encode(), decode_strings=True)
    assert php_serialize(values) == spec
    assert phpserialize.dumps(values).decode() == spec
    assert php_serialize({"k": "é"}) == 'a:1:{s:1:"k";s:2:"é";}'
