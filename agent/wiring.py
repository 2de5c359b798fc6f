"""From a validated agent.yaml to the settings and services that do the work.

The daemon (agent/daemon.py), the command line (agent/cli/) and the demo (agent/demo/) all turn
the same config into the same objects; they do it here, so none of them imports helpers from
another (the uvicorn shape: `config` builds, `server` runs, `main` is only the CLI). Nothing
here opens a socket or starts a task: building is cheap and the caller decides what runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from agent.access.context import AccessRules
from agent.access.link import SessionCallers
from agent.access.link import link_methods as access_methods
from agent.access.passwords import PasswordHasher
from agent.access.service import AccessService
from agent.booking.confirmations import AppointmentCalendar, CalendarSettings
from agent.booking.link import link_methods as booking_methods
from agent.booking.reads import BookingRules
from agent.booking.service import BookingService
from agent.clock import Clock
from agent.config import AgentConfig
from agent.db import Database, DatabaseSettings
from agent.forms.link import link_methods as form_methods
from agent.mail.emails import MailTemplates
from agent.mail.outbox import OutboxWorker, sender_from_config
from agent.messages.link import link_methods as message_methods
from agent.openemr.store import OpenEMRSettings, OpenEMRStore
from agent.openemr.store.tables import Tables
from agent.practice import link_methods as practice_methods
from agent.records.link import link_methods as record_methods
from agent.rpc import AgentMethods, DomainContext
from agent.store.base import PracticeStore
from agent.store.portico import PorticoStore


def database_settings(config: AgentConfig) -> DatabaseSettings:
    """The pool's (and `migrate`'s) connection. Its default database holds Portico's own
    ``portal_*`` tables, unqualified in every query: `database.name` for the portico system
    (practice and portal tables together, as the demo has them), `database.portal_name` for
    openemr, whose tables the OpenEMR store names with their database (Tables)."""
    db = config.database
    return DatabaseSettings(
        host=db.host,
        port=db.port,
        name=db.portal_name if config.practice.system == "openemr" else db.name,
        user=db.user,
        password=db.password_value(),
        pool_size=db.pool_size,
        connect_timeout=db.connect_timeout_seconds,
        read_timeout=db.read_timeout_seconds,
        write_timeout=db.write_timeout_seconds,
    )


def practice_store(config: AgentConfig, db: Database, clock: Clock | None = None) -> PracticeStore:
    """The store for the practice's system (`practice.system`); `clock` tells the OpenEMR
    store "today" (default: the system clock)."""
    match config.practice.system:
        case "portico":
            return PorticoStore(db)
        case "openemr":
            return OpenEMRStore(db, openemr_settings(config), clock)


def openemr_settings(config: AgentConfig) -> OpenEMRSettings:
    o = config.openemr
    return OpenEMRSettings(
        tables=Tables.of(config.database.name),
        zone=ZoneInfo(config.practice.timezone),
        booking_status=o.booking_status,
        cancel_status=o.cancel_status,
        late_cancel_status=o.late_cancel_status,
        frees_slot=frozenset(o.frees_slot),
        clinic_wide_blocks=o.clinic_wide_blocks,
        notify_provider=o.notify_provider,
    )


def booking_rules(config: AgentConfig) -> BookingRules:
    b = config.booking
    return BookingRules(
        enabled=b.enabled,
        horizon_days=b.horizon_days,
        min_notice_hours=b.min_notice_hours,
        cancel_cutoff_hours=b.cancel_cutoff_hours,
        allow_cancel_reschedule=b.allow_cancel_reschedule,
        round_to_minutes=b.round_to_minutes,
        allow_no_preference=b.allow_no_preference,
        late_cancel_fee_hours=b.late_cancel_fee_hours,
        max_upcoming_per_patient=b.max_upcoming_per_patient,
    )


def access_rules(config: AgentConfig) -> AccessRules:
    a = config.access
    return AccessRules(
        identity=a.identity,
        activate_without_confirmation=a.activate_without_confirmation,
        self_registration=a.self_registration,
        session_idle_minutes=a.session_idle_minutes,
        session_absolute_hours=a.session_absolute_hours,
        lockout_failures=a.lockout_failures,
        lockout_minutes=a.lockout_minutes,
        reset_emails_per_hour=a.reset_emails_per_hour,
    )


def mail_templates(config: AgentConfig) -> MailTemplates:
    return MailTemplates(
        practice_name=config.practice.name,
        practice_phone=config.practice.phone,
        portal_url=config.portal.url,
    )


def appointment_calendar(config: AgentConfig, store: PracticeStore) -> AppointmentCalendar:
    """The appointment emails and calendar files (issue 16)."""
    practice = config.practice
    settings = CalendarSettings(
        practice_name=practice.name,
        practice_phone=practice.phone,
        subdomain=practice.subdomain,
        zone=ZoneInfo(practice.timezone),
        from_address=config.email.from_address,
        portal_url=config.portal.url.strip().rstrip("/"),
        details=config.email.appointment_details,
    )
    return AppointmentCalendar(settings, mail_templates(config), store)


def build_access(
    config: AgentConfig,
    db: Database,
    clock: Clock,
    hasher: PasswordHasher | None = None,
    store: PracticeStore | None = None,
) -> AccessService:
    return AccessService(
        db,
        store or practice_store(config, db, clock),
        access_rules(config),
        hasher or PasswordHasher(),
        mail_templates(config),
        clock,
    )


@dataclass(frozen=True, slots=True)
class Services:
    """What the agent serves with: the link handler and the two services whose rules a
    reload replaces in place (and whose password hasher stop() closes)."""

    methods: AgentMethods
    booking: BookingService
    access: AccessService


def build_services(
    config: AgentConfig, db: Database, clock: Clock, hasher: PasswordHasher | None = None
) -> Services:
    """Every link method the agent serves, over services sharing `db` and `clock`."""
    practice = config.practice
    store = practice_store(config, db, clock)
    booking = BookingService(
        store,
        booking_rules(config),
        ZoneInfo(practice.timezone),
        clock,
        phone=practice.phone,
        calendar=appointment_calendar(config, store),
    )
    access = build_access(config, db, clock, hasher, store)
    callers = SessionCallers(access)
    context = DomainContext(
        config=config,
        db=db,
        store=store,
        clock=clock,
        callers=callers,
        mail=mail_templates(config),
        zone=ZoneInfo(practice.timezone),
    )
    methods = AgentMethods(
        [
            practice_methods(context, booking, access),
            booking_methods(context, booking),
            access_methods(context, access),
            message_methods(context),
            form_methods(context),
            record_methods(context),
        ],
        phone=practice.phone,
    )
    return Services(methods, booking, access)


def build_outbox(
    config: AgentConfig, db: Database, clock: Clock, access: AccessService
) -> OutboxWorker:
    """The mail worker, with the access work it does before each pass."""
    return OutboxWorker(
        db,
        sender_from_config(config.email),
        clock,
        prepare=[
            access.credentials.answer_reset_requests,
            # Expired links first: they no longer count towards an address's cap.
            access.registrations.forget_expired,
            access.registrations.answer_sign_ups,
        ],
    )
