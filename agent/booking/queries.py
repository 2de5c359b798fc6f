"""SQL for booking, run inside a worker-thread transaction (see agent/db/pool.py).

Every function takes the transaction's cursor. DATETIME columns hold UTC; slot maths works in
epoch minutes, so rows are converted at this edge.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from agent.booking.slots import HoursBlock, merge_intervals

EPOCH = datetime(1970, 1, 1)
MINUTE = timedelta(minutes=1)


def db_minute(value: datetime) -> int:
    return (value - EPOCH) // MINUTE


def minute_db(minute: int) -> datetime:
    return EPOCH + timedelta(minutes=minute)


def _placeholders(values: list[int]) -> str:
    return ", ".join(["%s"] * len(values))


def appointment_types(cursor: Any) -> list[dict[str, Any]]:
    cursor.execute(
        "SELECT id, name, duration_minutes FROM appointment_types"
        " WHERE online_bookable = 1 ORDER BY name, id"
    )
    return list(cursor.fetchall())


def appointment_type(cursor: Any, type_id: int) -> dict[str, Any] | None:
    cursor.execute(
        "SELECT id, name, duration_minutes FROM appointment_types"
        " WHERE id = %s AND online_bookable = 1",
        (type_id,),
    )
    row: dict[str, Any] | None = cursor.fetchone()
    return row


def providers(
    cursor: Any, type_id: int | None = None, provider_id: int | None = None, *, lock: bool = False
) -> list[dict[str, Any]]:
    """Active providers taking online bookings (for a type, if given), in id order.

    With lock=True the provider rows are locked FOR UPDATE, always in id order so that
    concurrent bookings never wait on each other in a cycle: this lock is what makes double
    booking impossible."""
    sql = "SELECT p.id, p.display_name FROM providers p"
    args: list[Any] = []
    if type_id is not None:
        sql += (
            " JOIN provider_appointment_types pat"
            " ON pat.provider_id = p.id AND pat.appointment_type_id = %s"
        )
        args.append(type_id)
    sql += " WHERE p.active = 1 AND p.online_booking = 1"
    if provider_id is not None:
        sql += " AND p.id = %s"
        args.append(provider_id)
    sql += " ORDER BY p.id"
    if lock:
        sql += " FOR UPDATE"
    cursor.execute(sql, args)
    return list(cursor.fetchall())


def working_hours(cursor: Any, provider_ids: list[int]) -> dict[int, list[HoursBlock]]:
    result: dict[int, list[HoursBlock]] = defaultdict(list)
    if not provider_ids:
        return result
    cursor.execute(
        "SELECT provider_id, weekday, start_time, end_time FROM provider_hours"
        f" WHERE provider_id IN ({_placeholders(provider_ids)})",
        provider_ids,
    )
    for row in cursor.fetchall():
        # PyMySQL returns TIME as a timedelta from midnight.
        result[row["provider_id"]].append(
            HoursBlock(
                row["weekday"],
                int(row["start_time"].total_seconds()) // 60,
                int(row["end_time"].total_seconds()) // 60,
            )
        )
    return result


def busy_intervals(
    cursor: Any, provider_ids: list[int], start: int, end: int
) -> dict[int, list[tuple[int, int]]]:
    """Booked appointments and time off overlapping [start, end), merged per provider."""
    raw: dict[int, list[tuple[int, int]]] = defaultdict(list)
    if not provider_ids:
        return raw
    # The lower bound on starts_at lets MariaDB use (provider_id, starts_at); it assumes no
    # appointment lasts a day or more. Time off (vacations) may, and that table is small.
    for sql, bounds in (
        (
            "SELECT provider_id, starts_at, ends_at FROM appointments"
            " WHERE provider_id IN ({}) AND status = 'booked'"
            " AND starts_at >= %s AND starts_at < %s AND ends_at > %s",
            (minute_db(start - 24 * 60), minute_db(end), minute_db(start)),
        ),
        (
            "SELECT provider_id, starts_at, ends_at FROM provider_time_off"
            " WHERE provider_id IN ({}) AND starts_at < %s AND ends_at > %s",
            (minute_db(end), minute_db(start)),
        ),
    ):
        cursor.execute(sql.format(_placeholders(provider_ids)), [*provider_ids, *bounds])
        for row in cursor.fetchall():
            raw[row["provider_id"]].append((db_minute(row["starts_at"]), db_minute(row["ends_at"])))
    return {pid: merge_intervals(intervals) for pid, intervals in raw.items()}


def lock_patient(cursor: Any, patient_id: int) -> bool:
    """Serialises one patient's booking changes (the max_upcoming_per_patient cap)."""
    cursor.execute("SELECT id FROM patients WHERE id = %s FOR UPDATE", (patient_id,))
    return cursor.fetchone() is not None


def patient_busy(
    cursor: Any, patient_id: int, start: int, end: int, except_id: int | None = None
) -> list[tuple[int, int]]:
    """The patient's own booked appointments overlapping [start, end), merged: a patient
    cannot be in two rooms at once, whichever providers the visits are with."""
    cursor.execute(
        "SELECT id, starts_at, ends_at FROM appointments"
        " WHERE patient_id = %s AND status = 'booked' AND starts_at < %s AND ends_at > %s",
        (patient_id, minute_db(end), minute_db(start)),
    )
    return merge_intervals(
        (db_minute(row["starts_at"]), db_minute(row["ends_at"]))
        for row in cursor.fetchall()
        if row["id"] != except_id
    )


def upcoming_count(cursor: Any, patient_id: int, now: int) -> int:
    cursor.execute(
        "SELECT COUNT(*) AS n FROM appointments"
        " WHERE patient_id = %s AND status = 'booked' AND starts_at >= %s",
        (patient_id, minute_db(now)),
    )
    return int(cursor.fetchone()["n"])


def appointments_per_provider(
    cursor: Any, provider_ids: list[int], start: int, end: int
) -> dict[int, int]:
    cursor.execute(
        "SELECT provider_id, COUNT(*) AS n FROM appointments"
        f" WHERE provider_id IN ({_placeholders(provider_ids)}) AND status = 'booked'"
        " AND starts_at >= %s AND starts_at < %s GROUP BY provider_id",
        [*provider_ids, minute_db(start), minute_db(end)],
    )
    return {row["provider_id"]: int(row["n"]) for row in cursor.fetchall()}


def insert_appointment(
    cursor: Any, patient_id: int, provider_id: int, type_id: int, start: int, duration: int
) -> int:
    cursor.execute(
        "INSERT INTO appointments"
        " (patient_id, provider_id, appointment_type_id, starts_at, ends_at, status, source)"
        " VALUES (%s, %s, %s, %s, %s, 'booked', 'portal')",
        (patient_id, provider_id, type_id, minute_db(start), minute_db(start + duration)),
    )
    return int(cursor.lastrowid)


_APPOINTMENT = (
    "SELECT a.id, a.patient_id, a.provider_id, a.appointment_type_id, a.starts_at, a.ends_at,"
    " a.status, a.late_cancel, p.display_name AS provider_name, t.name AS type_name,"
    " t.duration_minutes"
    " FROM appointments a JOIN providers p ON p.id = a.provider_id"
    " JOIN appointment_types t ON t.id = a.appointment_type_id"
)


def appointment(
    cursor: Any, appointment_id: int, patient_id: int, *, lock: bool = False
) -> dict[str, Any] | None:
    """One of this patient's appointments. Someone else's and a nonexistent one look the same."""
    cursor.execute(
        _APPOINTMENT + " WHERE a.id = %s AND a.patient_id = %s" + (" FOR UPDATE" if lock else ""),
        (appointment_id, patient_id),
    )
    row: dict[str, Any] | None = cursor.fetchone()
    return row


def patient_appointments(cursor: Any, patient_id: int) -> list[dict[str, Any]]:
    cursor.execute(
        _APPOINTMENT + " WHERE a.patient_id = %s ORDER BY a.starts_at DESC LIMIT 200",
        (patient_id,),
    )
    return list(cursor.fetchall())


def cancel_appointment(cursor: Any, appointment_id: int, now: int, *, late: bool) -> None:
    cursor.execute(
        "UPDATE appointments SET status = 'cancelled', cancelled_at = %s,"
        " cancelled_by = 'patient', late_cancel = %s WHERE id = %s",
        (minute_db(now), int(late), appointment_id),
    )
