"""Rows in an OpenEMR database, written as OpenEMR itself writes them.

Every builder runs on a connection in OpenEMR's session mode (`sql_mode = ''`) and sends what
the cited OpenEMR writer sends, `''` into integer columns included, so the tables hold exactly
what a practice's database holds whatever mode the code under test runs in.

`install(db)` leaves what OpenEMR's installer leaves: the version row, facility 3, the admin
user (id 1, a calendar "provider" with no schedule), the default categories, the appointment
statuses and the globals a portal reads.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from pymysql.cursors import Cursor

from tests.support.openemr import OpenEMRDatabase
from tests.support.openemr.recurrspec import NO_REPEAT, WORKDAY, Repeat, php_serialize

FACILITY = 3  # the one facility sql/database.sql ships (:1894)
ADMIN = 1  # users.id of the installer's admin (library/classes/Installer.class.php:609)

# Default categories (sql/database.sql:8223-8252): id, constant, name, pc_recurrtype, whether
# the spec says "every workday" (else "no repeat"), duration s, end_date_flag, end_date_type,
# end_date_freq, end_all_day, cattype, seq.
DEFAULT_CATEGORIES = (
    (1, "no_show", "No Show", 0, False, 0, 0, 0, 0, 0, 0, 1),
    (2, "in_office", "In Office", 1, True, 0, 1, 3, 2, 0, 1, 2),
    (3, "out_of_office", "Out Of Office", 1, True, 0, 1, 3, 2, 0, 1, 3),
    (4, "vacation", "Vacation", 0, False, 0, 0, 0, 0, 1, 1, 4),
    (5, "office_visit", "Office Visit", 0, False, 900, 0, 0, 0, 0, 0, 5),
    (6, "holidays", "Holidays", 0, True, 86400, 1, 3, 2, 0, 2, 6),
    (7, "closed", "Closed", 0, True, 86400, 1, 3, 2, 0, 2, 7),
    (8, "lunch", "Lunch", 1, True, 3600, 0, 3, 2, 0, 1, 8),
    (9, "established_patient", "Established Patient", 0, False, 900, 0, 0, 0, 0, 0, 9),
    (10, "new_patient", "New Patient", 0, False, 1800, 0, 0, 0, 0, 0, 10),
    (11, "reserved", "Reserved", 1, True, 900, 0, 3, 2, 0, 1, 11),
    (
        12,
        "health_and_behavioral_assessment",
        "Health and Behavioral Assessment",
        0,
        False,
        900,
        0,
        0,
        0,
        0,
        0,
        12,
    ),
    (13, "preventive_care_services", "Preventive Care Services", 0, False, 900, 0, 0, 0, 0, 0, 13),
    (
        14,
        "ophthalmological_services",
        "Ophthalmological Services",
        0,
        False,
        900,
        0,
        0,
        0,
        0,
        0,
        14,
    ),
    (15, "group_therapy", "Group Therapy", 0, False, 3600, 0, 0, 0, 0, 3, 15),
)
IN_OFFICE, OUT_OF_OFFICE, VACATION, OFFICE_VISIT, LUNCH, NEW_PATIENT = 2, 3, 4, 5, 8, 10

# Appointment statuses, list `apptstat` (sql/database.sql:4457-4475): code, title, seq,
# toggle_setting_1 (check-in), toggle_setting_2 (check-out).
APPOINTMENT_STATUSES = (
    ("-", "- None", 5, 0, 0),
    ("*", "* Reminder done", 10, 0, 0),
    ("+", "+ Chart pulled", 15, 0, 0),
    ("x", "x Canceled", 20, 0, 0),
    ("?", "? No show", 25, 0, 0),
    ("@", "@ Arrived", 30, 1, 0),
    ("~", "~ Arrived late", 35, 1, 0),
    ("!", "! Left w/o visit", 40, 0, 1),
    ("#", "# Ins/fin issue", 45, 0, 0),
    ("<", "< In exam room", 50, 0, 0),
    (">", "> Checked out", 55, 0, 1),
    ("$", "$ Coding done", 60, 0, 0),
    ("%", "% Canceled < 24h", 65, 0, 0),
    ("^", "^ Pending", 70, 0, 0),
    ("AVM", "AVM Confirmed", 80, 0, 0),
    ("SMS", "SMS Confirmed", 85, 0, 0),
    ("EMAIL", "EMAIL Confimed", 90, 0, 0),
    ("CALL", "Callback requested", 95, 0, 0),
)

# Installer defaults of the globals a portal reads (library/globals.inc.php; README 2.6).
DEFAULT_GLOBALS = {
    "gbl_time_zone": "",
    "calendar_interval": "15",
    "schedule_start": "8",
    "schedule_end": "17",
    "weekend_days": "6,0",
    "first_day_week": "1",
    "allow_portal_appointments": "1",
    "portal_onsite_two_enable": "0",
    "select_multi_providers": "0",
}

# The empty address both calendar dialogs serialize into pc_location (add_edit_event.php:413-421).
EMPTY_LOCATION = php_serialize(
    dict.fromkeys(
        (
            "event_location",
            "event_street1",
            "event_street2",
            "event_city",
            "event_state",
            "event_postal",
        ),
        "",
    )
)


def _insert(cursor: Cursor, table: str, values: Mapping[str, Any]) -> int:
    columns = ", ".join(f"`{column}`" for column in values)
    marks = ", ".join(["%s"] * len(values))
    cursor.execute(f"INSERT INTO `{table}` ({columns}) VALUES ({marks})", tuple(values.values()))
    return int(cursor.lastrowid or 0)


def insert(db: OpenEMRDatabase, table: str, values: Mapping[str, Any]) -> int:
    """One row into `table` in OpenEMR's session mode; its AUTO_INCREMENT id (0 if none)."""
    connection = db.as_openemr()
    with connection, connection.cursor() as cursor:
        return _insert(cursor, table, values)


def _now() -> datetime:
    # Naive local wall clock, like OpenEMR's NOW() in a session set to the practice's offset.
    return datetime.now().replace(microsecond=0)


def set_global(db: OpenEMRDatabase, name: str, value: str) -> None:
    """A `globals` row as the installer and the admin page write it (`gl_index` 0)."""
    connection = db.as_openemr()
    with connection, connection.cursor() as cursor:
        cursor.execute(
            "REPLACE INTO globals (gl_name, gl_index, gl_value) VALUES (%s, 0, %s)", (name, value)
        )


def install(db: OpenEMRDatabase) -> None:
    """The rows a fresh OpenEMR 8.2.0-dev install holds that a portal reads."""
    connection = db.as_openemr()
    with connection, connection.cursor() as cursor:
        cursor.execute("START TRANSACTION")  # one commit: a fixture of every test
        _install(cursor)
        connection.commit()


def _install(cursor: Cursor) -> None:
    # The schema's version row (sql/database.sql:12447), then the installer's UPDATE
    # (Installer.class.php:552-580).
    cursor.execute(
        "INSERT INTO version (v_major, v_minor, v_patch, v_realpatch, v_tag, v_database, v_acl)"
        " VALUES (0, 0, 0, 0, '', 0, 0)"
    )
    cursor.execute(
        "UPDATE version SET v_major = '8', v_minor = '2', v_patch = '0', v_realpatch = '0',"
        " v_tag = '-dev', v_database = '541', v_acl = '13'"
    )
    _insert(
        cursor,
        "facility",
        {
            "id": FACILITY,
            "name": "Your Clinic Name Here",
            "phone": "000-000-0000",
            "fax": "000-000-0000",
            "street": "",
            "city": "",
            "state": "",
            "postal_code": "",
            "country_code": "",
            "federal_ein": "",
            "service_location": 1,
            "billing_location": 1,
            "accepts_assignment": 1,
            "color": "#99FFFF",
            "primary_business_entity": "0",
        },
    )
    _insert(
        cursor,
        "users",
        {
            "id": ADMIN,
            "username": "admin",
            "password": "NoLongerUsed",
            "authorized": 1,
            "lname": "Administrator",
            "fname": "",
            "facility_id": FACILITY,
            "calendar": 1,
            "cal_ui": 3,
        },
    )
    for (
        catid,
        constant,
        name,
        recurrtype,
        workdays,
        duration,
        flag,
        end_type,
        end_freq,
        all_day,
        cattype,
        seq,
    ) in DEFAULT_CATEGORIES:
        spec = {
            "event_repeat_freq": "1" if workdays else "0",
            "event_repeat_freq_type": str(WORKDAY) if workdays else "0",
            "event_repeat_on_num": "1",
            "event_repeat_on_day": "0",
            "event_repeat_on_freq": "0",
        }
        _insert(
            cursor,
            "openemr_postcalendar_categories",
            {
                "pc_catid": catid,
                "pc_constant_id": constant,
                "pc_catname": name,
                "pc_catcolor": "#dee2e6",
                "pc_catdesc": name,
                "pc_recurrtype": recurrtype,
                "pc_enddate": None,
                "pc_recurrspec": php_serialize(spec),
                "pc_recurrfreq": 0,
                "pc_duration": duration,
                "pc_end_date_flag": flag,
                "pc_end_date_type": end_type,
                "pc_end_date_freq": end_freq,
                "pc_end_all_day": all_day,
                "pc_dailylimit": 0,
                "pc_cattype": cattype,
                "pc_active": 1,
                "pc_seq": seq,
                "aco_spec": "encounters|notes",
            },
        )
    for code, title, seq, check_in, check_out in APPOINTMENT_STATUSES:
        _insert(
            cursor,
            "list_options",
            {
                "list_id": "apptstat",
                "option_id": code,
                "title": title,
                "seq": seq,
                "is_default": 0,
                "notes": "FEFDCF|0",
                "toggle_setting_1": check_in,
                "toggle_setting_2": check_out,
            },
        )
    for name, value in DEFAULT_GLOBALS.items():
        _insert(cursor, "globals", {"gl_name": name, "gl_index": 0, "gl_value": value})


def add_patient(
    db: OpenEMRDatabase,
    pid: int,
    *,
    fname: str = "Ada",
    lname: str = "Lovelace",
    dob: str | None = "1980-04-02",
    email: str = "",
    postal_code: str = "",
    portal: str = "YES",
    deceased: str | None = None,
    sex: str = "Female",
    provider: int | None = None,
    phone_home: str = "",
) -> int:
    """A `patient_data` row as OpenEMR's new-patient form saves it (PatientService insert:
    `pid` and `pubpid` given, `uuid`, `date` and `regdate` filled). `portal` is
    `allow_patient_portal`: 'YES', 'NO' or '' (never set). Returns the surrogate `id`, which is
    not `pid`."""
    now = _now()
    return insert(
        db,
        "patient_data",
        {
            "uuid": secrets.token_bytes(16),
            "title": "",
            "fname": fname,
            "lname": lname,
            "mname": "",
            "DOB": dob,
            "street": "",
            "postal_code": postal_code,
            "city": "",
            "state": "",
            "sex": sex,
            "email": email,
            "phone_home": phone_home,
            "providerID": provider,
            "pubpid": str(pid),
            "pid": pid,
            "allow_patient_portal": portal,
            "hipaa_allowemail": "YES",
            "deceased_date": deceased,
            "date": now,
            "regdate": now,
        },
    )


def add_provider(
    db: OpenEMRDatabase,
    *,
    username: str,
    fname: str,
    lname: str,
    title: str = "Dr.",
    authorized: int = 1,
    active: int = 1,
    calendar: int = 1,
    facility_id: int = FACILITY,
) -> int:
    """A `users` row as the admin "Add user" page saves a provider; returns `users.id`."""
    return insert(
        db,
        "users",
        {
            "username": username,
            "password": "NoLongerUsed",
            "authorized": authorized,
            "active": active,
            "calendar": calendar,
            "fname": fname,
            "lname": lname,
            "mname": "",
            "title": title,
            "npi": "",
            "specialty": "Family Medicine",
            "facility": "Your Clinic Name Here",
            "facility_id": facility_id,
            "cal_ui": 3,
            "info": "",
            "see_auth": 1,
        },
    )


def add_category(
    db: OpenEMRDatabase,
    constant_id: str,
    name: str,
    duration_seconds: int,
    *,
    cattype: int = 0,
    active: int = 1,
    seq: int = 20,
) -> int:
    """A practice's own category (the admin's calendar categories page); returns `pc_catid`."""
    return insert(
        db,
        "openemr_postcalendar_categories",
        {
            "pc_constant_id": constant_id,
            "pc_catname": name,
            "pc_catcolor": "#ffecb4",
            "pc_catdesc": name,
            "pc_recurrtype": 0,
            "pc_recurrspec": NO_REPEAT.spec,
            "pc_recurrfreq": 0,
            "pc_duration": duration_seconds,
            "pc_end_date_flag": 0,
            "pc_end_date_type": None,
            "pc_end_date_freq": 0,
            "pc_end_all_day": 0,
            "pc_dailylimit": 0,
            "pc_cattype": cattype,
            "pc_active": active,
            "pc_seq": seq,
            "aco_spec": "encounters|notes",
        },
    )


def _wall(hours: int, minutes: int) -> str:
    # The staff dialog writes "$tmph:$tmpm:00" unpadded (add_edit_event.php:360-370).
    return f"{hours}:{minutes}:00"


def add_event(
    db: OpenEMRDatabase,
    *,
    provider: int | str,
    category: int,
    day: str,
    start: str = "0:00",
    minutes: int = 0,
    patient: int | str = "",
    status: str = "-",
    repeat: Repeat = NO_REPEAT,
    until: str | None = None,
    prefcat: int = 0,
    all_day: bool = False,
    facility: int = FACILITY,
    comments: str = "",
) -> int:
    """An `openemr_postcalendar_events` row as the staff dialog saves it (`InsertEvent`,
    library/encounter_events.inc.php:365-377): `pc_multiple` and `pc_gid` sent as `''`, title
    the category's name, duration minutes x 60, eventstatus and sharing 1. `start` is local
    'H:MM'; `until` the inclusive `pc_endDate` of a repeating row. Returns `pc_eid`."""
    if all_day:
        hours, mins, minutes = 0, 0, 24 * 60
    else:
        hours, mins = (int(part) for part in start.split(":"))
    end_minutes = hours * 60 + mins + minutes
    title = db.query(
        "SELECT pc_catname FROM openemr_postcalendar_categories WHERE pc_catid = %s", (category,)
    )[0]["pc_catname"]
    return insert(
        db,
        "openemr_postcalendar_events",
        {
            "pc_catid": category,
            "pc_multiple": "",
            "pc_aid": str(provider),
            "pc_pid": str(patient),
            "pc_gid": "",
            "pc_title": title,
            "pc_time": _now(),
            "pc_hometext": comments,
            "pc_informant": str(ADMIN),
            "pc_eventDate": day,
            "pc_endDate": until,
            "pc_duration": minutes * 60,
            "pc_recurrtype": repeat.type,
            "pc_recurrspec": repeat.spec,
            "pc_startTime": _wall(hours, mins),
            "pc_endTime": _wall(*divmod(end_minutes, 60)),
            "pc_alldayevent": int(all_day),
            "pc_apptstatus": status,
            "pc_prefcatid": prefcat,
            "pc_location": EMPTY_LOCATION,
            "pc_eventstatus": 1,
            "pc_sharing": 1,
            "pc_facility": facility,
            "pc_billing_location": facility,
            "pc_room": "",
        },
    )


def add_problem(
    db: OpenEMRDatabase,
    pid: int,
    title: str,
    diagnosis: str,
    begdate: str,
    *,
    enddate: str | None = None,
    outcome: int = 0,
    occurrence: int = 0,
    activity: int = 1,
    verification: str = "confirmed",
    comments: str = "",
) -> int:
    """A `lists` medical_problem as the issue form saves it; returns `lists.id`."""
    return _issue(
        db,
        pid,
        "medical_problem",
        title,
        diagnosis,
        begdate,
        enddate=enddate,
        outcome=outcome,
        occurrence=occurrence,
        activity=activity,
        verification=verification,
        comments=comments,
    )


def add_allergy(
    db: OpenEMRDatabase,
    pid: int,
    title: str,
    diagnosis: str,
    begdate: str,
    *,
    reaction: str = "hives",
    severity: str | None = "moderate",
    enddate: str | None = None,
    outcome: int = 0,
    activity: int = 1,
    verification: str = "confirmed",
    comments: str = "",
) -> int:
    """A `lists` allergy as the issue form saves it; returns `lists.id`."""
    return _issue(
        db,
        pid,
        "allergy",
        title,
        diagnosis,
        begdate,
        reaction=reaction,
        severity_al=severity,
        enddate=enddate,
        outcome=outcome,
        activity=activity,
        verification=verification,
        comments=comments,
    )


def _issue(
    db: OpenEMRDatabase, pid: int, kind: str, title: str, diagnosis: str, begdate: str, **extra: Any
) -> int:
    values = {
        "uuid": secrets.token_bytes(16),
        "date": _now(),
        "type": kind,
        "subtype": "",
        "title": title,
        "begdate": begdate,
        "enddate": None,
        "returndate": None,
        "occurrence": 0,
        "classification": 0,
        "referredby": "",
        "extrainfo": "",
        "diagnosis": diagnosis,
        "activity": 1,
        "comments": "",
        "pid": pid,
        "user": "admin",
        "groupname": "Default",
        "outcome": 0,
        "destination": "",
        "reaction": "",
        "verification": "confirmed",
        "severity_al": None,
    }
    return insert(db, "lists", values | extra)


def add_medication(
    db: OpenEMRDatabase,
    pid: int,
    title: str,
    rxcui: str,
    begdate: str,
    *,
    instructions: str = "1 tablet daily",
    enddate: str | None = None,
    activity: int = 1,
    comments: str = "",
    prescription_id: int | None = None,
    details: bool = True,
) -> int:
    """A `lists` medication with its `lists_medication` row and no prescription, as the issue
    form saves a patient-reported medication; returns `lists.id`. `prescription_id` makes it
    the medication-list copy the Rx form keeps of a prescription (Prescription.class.php);
    `details=False` leaves out `lists_medication`, as rows from before that table have none."""
    diagnosis = f"RXCUI:{rxcui}" if rxcui else ""
    list_id = _issue(
        db,
        pid,
        "medication",
        title,
        diagnosis,
        begdate,
        enddate=enddate,
        activity=activity,
        comments=comments,
    )
    if not details:
        return list_id
    insert(
        db,
        "lists_medication",
        {
            "list_id": list_id,
            "drug_dosage_instructions": instructions,
            "usage_category": "community",
            "usage_category_title": "Home/Community",
            "request_intent": "plan",
            "request_intent_title": "Plan",
            "prescription_id": prescription_id,
            "is_primary_record": 1,
        },
    )
    return list_id


def add_prescription(
    db: OpenEMRDatabase,
    pid: int,
    drug: str,
    rxnorm: str,
    start: str,
    *,
    provider: int = ADMIN,
    dosage: str = "1",
    end: str | None = None,
    active: int = 1,
    instructions: str = "Take 1 tablet by mouth daily",
    note: str | None = None,
) -> int:
    """A `prescriptions` row as the Rx form saves it; returns its id."""
    now = _now()
    return insert(
        db,
        "prescriptions",
        {
            "uuid": secrets.token_bytes(16),
            "patient_id": pid,
            "date_added": now,
            "date_modified": now,
            "provider_id": provider,
            "start_date": start,
            "drug": drug,
            "drug_id": 0,
            "rxnorm_drugcode": rxnorm,
            "form": 1,
            "dosage": dosage,
            "quantity": "30",
            "size": "10",
            "unit": 2,
            "route": "bymouth",
            "interval": 9,
            "refills": 0,
            "per_refill": 0,
            "active": active,
            "datetime": now,
            "user": "admin",
            "end_date": end,
            "txDate": now.date(),
            "usage_category": "community",
            "usage_category_title": "Home/Community",
            "request_intent": "order",
            "request_intent_title": "Order",
            "drug_dosage_instructions": instructions,
            "note": note,
        },
    )


def add_immunization(
    db: OpenEMRDatabase,
    pid: int,
    cvx_code: str,
    administered: str,
    *,
    completion_status: str | None = "Completed",
    added_erroneously: int = 0,
    lot_number: str = "L123",
    manufacturer: str = "Acme Vaccines",
    expiration: str | None = None,
    note: str = "",
) -> int:
    """An `immunizations` row as the immunization form saves it; returns its id."""
    now = _now()
    return insert(
        db,
        "immunizations",
        {
            "uuid": secrets.token_bytes(16),
            "patient_id": pid,
            "administered_date": administered,
            "cvx_code": cvx_code,
            "manufacturer": manufacturer,
            "lot_number": lot_number,
            "administered_by_id": ADMIN,
            "note": note,
            "create_date": now,
            "update_date": now,
            "created_by": ADMIN,
            "updated_by": ADMIN,
            "amount_administered": 0.5,
            "amount_administered_unit": "ml",
            "expiration_date": expiration,
            "route": "intramuscular",
            "administration_site": "left_deltoid",
            "added_erroneously": added_erroneously,
            "completion_status": completion_status,
        },
    )


def add_lab_result(
    db: OpenEMRDatabase,
    pid: int,
    loinc: str,
    name: str,
    value: str,
    *,
    units: str = "",
    reference_range: str = "",
    abnormal: str = "no",
    status: str = "final",
    collected: str = "2026-10-01 08:00:00",
    report_status: str = "final",
    encounter: int = 0,
    analyte: str | None = None,
    comments: str | None = None,
    activity: int = 1,
) -> int:
    """One result down the chain procedure_order -> procedure_order_code -> procedure_report
    -> procedure_result, as a received lab result leaves it; returns `procedure_result_id`.
    `name` is the ordered test; `analyte` (default: `name`) the result line's own name;
    `encounter` is `form_encounter.encounter` (0: none), `activity` 0 a deleted order."""
    taken = datetime.fromisoformat(collected)
    order_id = insert(
        db,
        "procedure_order",
        {
            "uuid": secrets.token_bytes(16),
            "provider_id": ADMIN,
            "patient_id": pid,
            "encounter_id": encounter,
            "date_collected": taken,
            "date_ordered": taken - timedelta(days=1),
            "order_priority": "normal",
            "order_status": "complete",
            "activity": activity,
        },
    )
    insert(
        db,
        "procedure_order_code",
        {
            "procedure_order_id": order_id,
            "procedure_order_seq": 1,
            "procedure_code": loinc,
            "procedure_name": name,
        },
    )
    report_id = insert(
        db,
        "procedure_report",
        {
            "uuid": secrets.token_bytes(16),
            "procedure_order_id": order_id,
            "procedure_order_seq": 1,
            "date_collected": taken,
            "date_report": taken + timedelta(days=1),
            "report_status": report_status,
            "review_status": "reviewed",
        },
    )
    return insert(
        db,
        "procedure_result",
        {
            "uuid": secrets.token_bytes(16),
            "procedure_report_id": report_id,
            "result_data_type": "N",
            "result_code": loinc,
            "result_text": name if analyte is None else analyte,
            "date": taken,
            "units": units,
            "result": value,
            "range": reference_range,
            "abnormal": abnormal,
            "result_status": status,
            "comments": comments,
        },
    )


def add_encounter(
    db: OpenEMRDatabase,
    pid: int,
    encounter: int,
    started: str,
    *,
    reason: str | None = "Follow-up",
    provider: int | None = ADMIN,
    ended: str | None = None,
    catid: int = OFFICE_VISIT,
    sensitivity: str = "normal",
) -> int:
    """A `form_encounter` row as the New Encounter form saves it
    (interface/forms/newpatient/save.php): `encounter` is the visit number other tables point
    at (procedure_order.encounter_id), `date` the visit's local start. Returns its `id`."""
    return insert(
        db,
        "form_encounter",
        {
            "uuid": secrets.token_bytes(16),
            "date": started,
            "onset_date": started,
            "reason": reason,
            "facility": "Your Clinic Name Here",
            "facility_id": FACILITY,
            "billing_facility": FACILITY,
            "pid": pid,
            "encounter": encounter,
            "sensitivity": sensitivity,
            "referral_source": "",
            "pc_catid": catid,
            "provider_id": provider,
            "class_code": "AMB",
            "pos_code": 11,
            "date_end": ended,
        },
    )


def add_list_option(
    db: OpenEMRDatabase, list_id: str, option_id: str, title: str, *, codes: str = "", seq: int = 10
) -> None:
    """A `list_options` row as sql/database.sql ships it (e.g. list `reaction`, :5480-5483)."""
    insert(
        db,
        "list_options",
        {"list_id": list_id, "option_id": option_id, "title": title, "seq": seq, "codes": codes},
    )


CVX_CODE_TYPE = 100  # code_types.ct_id of CVX (sql/database.sql:10621)


def add_cvx_code(db: OpenEMRDatabase, code: str, text: str, *, short: str = "") -> int:
    """A CVX row of `codes` as OpenEMR's code loads write one (interface/super/load_codes.php:
    code_type, code, code_text, fee 0, units 0), with the short name the CVX load adds;
    returns `codes.id`."""
    return insert(
        db,
        "codes",
        {
            "code_type": CVX_CODE_TYPE,
            "code": code,
            "code_text": text,
            "code_text_short": short,
            "fee": 0,
            "units": 0,
        },
    )
