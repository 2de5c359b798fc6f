"""The booking half of the Portico store: appointment types, providers, hours, appointments.

Portico's schema (docs/schema.md) keeps DATETIMEs in UTC, naive; the store speaks epoch
minutes (agent/store/base.py), so rows are converted at this edge. Locks are InnoDB row locks
(``FOR UPDATE``): the patient row, the appointment row, then the candidate providers' rows in
id order, held until the transaction ends; that provider lock is what makes double booking
impossible, since every writer of ``appointments`` is Portico.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from agent.store.base import (
    Appointment,
    AppointmentType,
    HoursBlock,
    Interval,
    Provider,
    Tx,
)

EPOCH = datetime(1970, 1, 1)
MINUTE = timedelta(minutes=1)


def db_minute(value: datetime) -> int:
    return (value - EPOCH) // MINUTE


def minute_db(minute: int) -> datetime:
    return EPOCH + timedelta(minutes=minute)


def _placeholders(values: Sequence[int]) -> str:
    return ", ".join(["%s"] * len(values))


_APPOINTMENT = (
    "SELECT a.id, a.patient_id, a.provider_id, a.appointment_type_id, a.starts_at, a.ends_at,"
    " a.status, a.late_cancel, p.display_name AS provider_name, t.name AS type_name,"
    " t.duration_minutes"
    " FROM appointments a JOIN providers p ON p.id = a.provider_id"
    " JOIN appointment_types t ON t.id = a.appointment_type_id"
)


def _appointment(row: dict[str, Any]) -> Appointment:
    return Appointment(
        id=row["id"],
        patient_id=row["patient_id"],
        provider_id=row["provider_id"],
        provider_name=row["provider_name"],
        type_id=row["appointment_type_id"],
        type_name=row["type_name"],
        duration_minutes=row["duration_minutes"],
        start=db_minute(row["starts_at"]),
        end=db_minute(row["ends_at"]),
        status=row["status"],
        late_cancel=bool(row["late_cancel"]),
    )


class PorticoBooking:
    """The booking methods of :class:`agent.store.portico.PorticoStore`."""

    def appointment_types(self, tx: Tx) -> list[AppointmentType]:
        tx.execute(
            "SELECT id, name, duration_minutes FROM appointment_types"
            " WHERE online_bookable = 1 ORDER BY name, id"
        )
        return [AppointmentType(**row) for row in tx.fetchall()]

    def appointment_type(self, tx: Tx, type_id: int) -> AppointmentType | None:
        tx.execute(
            "SELECT id, name, duration_minutes FROM appointment_types"
            " WHERE id = %s AND online_bookable = 1",
            (type_id,),
        )
        row = tx.fetchone()
        return None if row is None else AppointmentType(**row)

    def providers(
        self, tx: Tx, type_id: int | None = None, provider_id: int | None = None
    ) -> list[Provider]:
        return _providers(tx, type_id, provider_id, lock=False)

    def lock_providers(self, tx: Tx, type_id: int, provider_id: int | None) -> list[Provider]:
        return _providers(tx, type_id, provider_id, lock=True)

    def working_hours(
        self,
        tx: Tx,
        provider_ids: Sequence[int],
        first_day: date,
        last_day: date,
        type_id: int | None = None,
    ) -> dict[int, list[HoursBlock]]:
        # provider_hours is a weekly pattern: the same blocks whatever the range, and for
        # every type (provider_appointment_types decides who offers a type at all).
        result: dict[int, list[HoursBlock]] = defaultdict(list)
        if not provider_ids:
            return result
        tx.execute(
            "SELECT provider_id, weekday, start_time, end_time FROM provider_hours"
            f" WHERE provider_id IN ({_placeholders(provider_ids)})",
            list(provider_ids),
        )
        for row in tx.fetchall():
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
        self, tx: Tx, provider_ids: Sequence[int], start: int, end: int
    ) -> dict[int, list[Interval]]:
        raw: dict[int, list[Interval]] = defaultdict(list)
        if not provider_ids:
            return raw
        # The lower bound on starts_at lets MariaDB use (provider_id, starts_at); it assumes
        # no appointment lasts a day or more. Time off (vacations) may, and that table is small.
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
            tx.execute(sql.format(_placeholders(provider_ids)), [*provider_ids, *bounds])
            for row in tx.fetchall():
                raw[row["provider_id"]].append(
                    (db_minute(row["starts_at"]), db_minute(row["ends_at"]))
                )
        return raw

    def lock_patient(self, tx: Tx, patient_id: int) -> bool:
        tx.execute("SELECT id FROM patients WHERE id = %s FOR UPDATE", (patient_id,))
        return tx.fetchone() is not None

    def patient_busy(
        self, tx: Tx, patient_id: int, start: int, end: int, except_id: int | None = None
    ) -> list[Interval]:
        tx.execute(
            "SELECT id, starts_at, ends_at FROM appointments"
            " WHERE patient_id = %s AND status = 'booked' AND starts_at < %s AND ends_at > %s",
            (patient_id, minute_db(end), minute_db(start)),
        )
        return [
            (db_minute(row["starts_at"]), db_minute(row["ends_at"]))
            for row in tx.fetchall()
            if row["id"] != except_id
        ]

    def upcoming_count(self, tx: Tx, patient_id: int, now: int) -> int:
        tx.execute(
            "SELECT COUNT(*) AS n FROM appointments"
            " WHERE patient_id = %s AND status = 'booked' AND starts_at >= %s",
            (patient_id, minute_db(now)),
        )
        return int(tx.fetchone()["n"])

    def appointments_per_provider(
        self, tx: Tx, provider_ids: Sequence[int], start: int, end: int
    ) -> dict[int, int]:
        tx.execute(
            "SELECT provider_id, COUNT(*) AS n FROM appointments"
            f" WHERE provider_id IN ({_placeholders(provider_ids)}) AND status = 'booked'"
            " AND starts_at >= %s AND starts_at < %s GROUP BY provider_id",
            [*provider_ids, minute_db(start), minute_db(end)],
        )
        return {row["provider_id"]: int(row["n"]) for row in tx.fetchall()}

    def insert_appointment(
        self, tx: Tx, patient_id: int, provider_id: int, type_id: int, start: int, duration: int
    ) -> int:
        # Never raises SlotTaken: every writer of this table takes the provider locks.
        tx.execute(
            "INSERT INTO appointments"
            " (patient_id, provider_id, appointment_type_id, starts_at, ends_at, status, source)"
            " VALUES (%s, %s, %s, %s, %s, 'booked', 'portal')",
            (patient_id, provider_id, type_id, minute_db(start), minute_db(start + duration)),
        )
        return int(tx.lastrowid)

    def appointment(self, tx: Tx, appointment_id: int, patient_id: int) -> Appointment | None:
        return _one_appointment(tx, appointment_id, patient_id, lock=False)

    def lock_appointment(self, tx: Tx, appointment_id: int, patient_id: int) -> Appointment | None:
        return _one_appointment(tx, appointment_id, patient_id, lock=True)

    def patient_appointments(self, tx: Tx, patient_id: int) -> list[Appointment]:
        tx.execute(
            _APPOINTMENT + " WHERE a.patient_id = %s ORDER BY a.starts_at DESC LIMIT 200",
            (patient_id,),
        )
        return [_appointment(row) for row in tx.fetchall()]

    def cancel_appointment(self, tx: Tx, appointment_id: int, now: int, *, late: bool) -> None:
        tx.execute(
            "UPDATE appointments SET status = 'cancelled', cancelled_at = %s,"
            " cancelled_by = 'patient', late_cancel = %s WHERE id = %s",
            (minute_db(now), int(late), appointment_id),
        )


def _providers(
    tx: Tx, type_id: int | None, provider_id: int | None, *, lock: bool
) -> list[Provider]:
    """Active providers taking online bookings (for a type, if given), in id order; with
    lock=True their rows are locked FOR UPDATE, always in id order so that concurrent
    bookings never wait on each other in a cycle."""
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
    tx.execute(sql, args)
    return [Provider(row["id"], row["display_name"]) for row in tx.fetchall()]


def _one_appointment(
    tx: Tx, appointment_id: int, patient_id: int, *, lock: bool
) -> Appointment | None:
    tx.execute(
        _APPOINTMENT + " WHERE a.id = %s AND a.patient_id = %s" + (" FOR UPDATE" if lock else ""),
        (appointment_id, patient_id),
    )
    row = tx.fetchone()
    return None if row is None else _appointment(row)
