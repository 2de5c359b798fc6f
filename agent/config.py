"""The agent's configuration: one YAML file (``/etc/portico/agent.yaml``), validated at once.

The file's shape is these models' shape. Defaults and limits live on the fields, so the commented
``config/agent.example.yaml`` and the validator cannot drift apart (a test loads the example).
A bad file never starts the daemon: :func:`load_config` reports every problem in one go, each with
its dotted path and line, and never echoes a secret.

The link sections (link:, listen:, tls:) are in :mod:`agent.config_link`, the checks of single
values in :mod:`agent.config_values`; this module holds the other sections, the rules across
sections, and the loading.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, Self

from pydantic import Field, SecretStr, model_validator

from agent.config_base import Section, conflict

# The link sections are re-exported: every section stays importable from agent.config.
from agent.config_link import TLS as TLS
from agent.config_link import Link as Link
from agent.config_link import Listen as Listen

# ConfigInvalid is re-exported: callers catch it as agent.config.ConfigInvalid.
from agent.config_report import EXAMPLE, SECTIONS, ConfigProblem
from agent.config_report import ConfigInvalid as ConfigInvalid
from agent.config_values import (
    Hours,
    MailAddress,
    MysqlName,
    PortalUrl,
    TimeZoneName,
    Topics,
)
from protocol.service.config_report import parse_yaml_model
from protocol.service.fields import Phone, Port, Subdomain, Whole

# What a patient's new conversation may be about unless agent.yaml lists the office's own.
DEFAULT_TOPICS = ("Appointments", "Prescriptions", "Billing", "Other")


def _read_secret(path: Path) -> str:
    # Only the line ending goes: editors add one, but spaces may belong to the password.
    return path.read_text(encoding="utf-8").rstrip("\r\n")


class Practice(Section):
    """Who the practice is, as patients see it."""

    name: str = Field(min_length=1, max_length=120, description="Practice name shown to patients.")
    phone: Phone = Field(
        min_length=7, max_length=32, description="Phone number patients are told to call."
    )
    timezone: TimeZoneName = Field(
        description="IANA time zone of the practice (working hours, times shown to patients)."
    )
    subdomain: Subdomain = Field(
        min_length=1,
        max_length=63,
        description="The office's label in the portal address (<subdomain>.<portal domain>).",
    )
    system: Literal["portico", "openemr"] = Field(
        "portico",
        description="The practice-management system whose database holds the practice's data.",
    )


class Database(Section):
    """The practice-management MySQL/MariaDB database."""

    host: str = Field("127.0.0.1", min_length=1, description="Database server host.")
    port: Port = Field(3306, description="Database server port.")
    name: MysqlName = Field(
        "practice", description="Database (schema) name; offices often rename it."
    )
    portal_name: MysqlName = Field(
        "portico",
        description=(
            "Database for Portico's own portal_* tables when practice.system is openemr"
            " (same server; the practice database gets no new tables)."
        ),
    )
    user: str = Field("portico", min_length=1, max_length=80, description="Database user.")
    password: SecretStr | None = Field(None, description="Inline password; prefer the file.")
    password_file: Path | None = Field(
        None, description="File holding the database password (trailing newline ignored)."
    )
    pool_size: Whole = Field(8, ge=1, le=64, description="Database connections kept open.")
    connect_timeout_seconds: Whole = Field(5, ge=1, le=60, description="Connect timeout.")
    read_timeout_seconds: Whole = Field(15, ge=1, le=600, description="Per-query read timeout.")
    write_timeout_seconds: Whole = Field(15, ge=1, le=600, description="Per-query write timeout.")

    @model_validator(mode="after")
    def _one_password_source(self) -> Self:
        if self.password is not None and self.password_file is not None:
            raise conflict("password", "set either password or password_file, not both")
        return self

    def password_value(self) -> str:
        """The password: read from ``password_file`` (OSError if unreadable), else the inline
        secret, else empty."""
        if self.password_file is not None:
            return _read_secret(self.password_file)
        return self.password.get_secret_value() if self.password is not None else ""


# An OpenEMR appointment status code (pc_apptstatus varchar(15), list `apptstat`).
AppointmentStatus = Annotated[str, Field(min_length=1, max_length=15)]


class OpenEMR(Section):
    """How Portico writes and reads OpenEMR's calendar (used when practice.system is openemr)."""

    booking_status: AppointmentStatus = Field(
        "^", description="Status of a portal booking ('^' Pending, as OpenEMR's own portal)."
    )
    cancel_status: AppointmentStatus = Field("x", description="Status of a cancellation.")
    late_cancel_status: AppointmentStatus = Field(
        "%", description="Status of a cancellation inside booking.late_cancel_fee_hours."
    )
    frees_slot: tuple[AppointmentStatus, ...] = Field(
        ("x", "%"), description="Statuses whose rows no longer take the provider's time."
    )
    clinic_wide_blocks: bool = Field(True, description="Clinic-wide rows block every provider.")
    notify_provider: bool = Field(False, description="A pnotes note per booking and cancel.")


class Booking(Section):
    """Online booking rules (seed 002)."""

    enabled: bool = Field(True, description="Patients may book online at all.")
    horizon_days: Whole = Field(60, ge=1, le=730, description="How far ahead a slot may start.")
    min_notice_hours: Hours = Field(24, description="The earliest slot offered is now + this.")
    cancel_cutoff_hours: Hours = Field(
        24, description="Patients may cancel/reschedule online until this long before the start."
    )
    allow_cancel_reschedule: bool = Field(True, description="Patients may cancel online at all.")
    round_to_minutes: Literal[15, 30, 60] = Field(15, description="Grid of slot start times.")
    allow_no_preference: bool = Field(
        True, description='Patients may pick "No preference" and get the first free provider.'
    )
    late_cancel_fee_hours: Annotated[Whole, Field(ge=1, le=8760)] | None = Field(
        None, description="Fee window: a cancel this close to the start is a late cancellation."
    )
    max_upcoming_per_patient: Annotated[Whole, Field(ge=1, le=100)] | None = Field(
        None, description="Cap on one patient's future appointments; none when unset."
    )

    @model_validator(mode="after")
    def _some_slot_possible(self) -> Self:
        if self.min_notice_hours / 24 >= self.horizon_days:
            raise conflict(
                "min_notice_hours",
                f"{self.min_notice_hours} hours of notice reach past the {self.horizon_days}-day "
                "booking horizon, so no slot could ever be offered; make min_notice_hours "
                "smaller than horizon_days x 24",
            )
        return self


class Access(Section):
    """Portal accounts, sign-in and sessions (seeds 002, 004)."""

    identity: Literal["email", "username"] = Field(
        "email", description="What patients sign in with; 'username' lets families share email."
    )
    activate_without_confirmation: bool = Field(
        False, description="Staff-enabled patients get access without confirming by email."
    )
    self_registration: bool = Field(False, description="Patients may sign themselves up.")
    session_idle_minutes: Whole = Field(30, ge=5, le=1440, description="Idle session timeout.")
    session_absolute_hours: Whole = Field(12, ge=1, le=720, description="Longest session.")
    lockout_failures: Whole = Field(5, ge=3, le=50, description="Failed sign-ins before lockout.")
    # Bounded: a lockout must never become a way to keep a patient out of their portal for long.
    lockout_minutes: Whole = Field(15, ge=1, le=60, description="How long a lockout lasts.")
    # Per account: "forgot password" asked from many addresses must not flood one mailbox.
    reset_emails_per_hour: Whole = Field(
        3, ge=1, le=20, description="Password-reset emails one account gets per hour at most."
    )


class Messages(Section):
    """Secure messages: what patients may write to the office."""

    patients_can_start: bool = Field(
        True, description="Patients may start a conversation, not only reply to the office."
    )
    topics: Topics = Field(
        DEFAULT_TOPICS,
        min_length=1,
        max_length=20,
        description="What a patient's new message may be about; they pick one (1 to 20).",
    )


class SMTP(Section):
    """The office's mail relay."""

    host: str = Field(min_length=1, description="SMTP relay host.")
    port: Port = Field(587, description="SMTP relay port.")
    starttls: bool = Field(True, description="Upgrade the connection with STARTTLS.")
    username: str | None = Field(None, description="SMTP user, if the relay needs sign-in.")
    password_file: Path | None = Field(None, description="File holding the SMTP password.")
    timeout_seconds: Whole = Field(10, ge=1, le=120, description="Give up on the relay after this.")

    def password_value(self) -> str:
        """The SMTP password read from ``password_file`` (OSError if unreadable), or ""."""
        return _read_secret(self.password_file) if self.password_file is not None else ""


class Email(Section):
    """How the agent sends email (invites, resets, notices; links only, never patient data)."""

    mode: Literal["smtp", "folder"] = Field(
        "folder", description="'smtp' sends through the relay; 'folder' writes files (demo)."
    )
    from_address: MailAddress = Field(
        "portal@localhost", description="Sender address of the portal's emails."
    )
    outbox_dir: Path = Field(Path("/var/lib/portico/outbox"), description="Folder mode's outbox.")
    smtp: SMTP | None = Field(None, description="Relay settings; required when mode is smtp.")
    appointment_details: Literal["date_time", "with_provider"] = Field(
        "date_time",
        description=(
            "What appointment emails and calendar files say: 'date_time' (the time only) or"
            " 'with_provider' (adds the provider's and the appointment type's names)."
            " Never a reason, diagnosis or note."
        ),
    )

    @model_validator(mode="after")
    def _smtp_when_needed(self) -> Self:
        if self.mode == "smtp" and self.smtp is None:
            raise conflict("smtp", "required when mode is smtp; add an smtp: section with host")
        return self


class Portal(Section):
    """The public patient portal, as linked from emails."""

    url: PortalUrl = Field(description="The portal's address.")


class Logging(Section):
    """The agent's own log output (JSON lines; never patient data)."""

    level: Literal["debug", "info", "warning", "error"] = Field("info", description="Log level.")


class Metrics(Section):
    """The Prometheus endpoint (GET /metrics): counts and timings only, never patient data."""

    enabled: bool = Field(True, description="Serve the metrics endpoint at all.")
    # Loopback by default: the endpoint has no sign-in, and who uses the portal when is the
    # practice's business. Prometheus runs on this server or reaches it through a tunnel.
    host: str = Field("127.0.0.1", min_length=1, description="Address to listen on.")
    port: Annotated[Whole, Field(ge=0, le=65535)] = Field(
        9123, description="TCP port of the metrics endpoint (0: any free port, for tests)."
    )


class AgentConfig(Section):
    """The whole agent.yaml."""

    practice: Practice = Field(description="Who the practice is.")
    link: Link = Field(default_factory=Link, description="Who opens the link, and to where.")
    listen: Listen | None = Field(None, description="Where the link listens (listen mode).")
    tls: TLS = Field(description="Link keys and trusted proxies.")
    database: Database = Field(description="The practice database.")
    openemr: OpenEMR = Field(
        default_factory=OpenEMR, description="OpenEMR calendar settings (practice.system openemr)."
    )
    booking: Booking = Field(default_factory=Booking, description="Online booking rules.")
    access: Access = Field(default_factory=Access, description="Accounts and sessions.")
    messages: Messages = Field(default_factory=Messages, description="Secure messages.")
    email: Email = Field(default_factory=Email, description="Outgoing email.")
    # Required, unlike the sections after it: no default address would be right, and a wrong
    # one would send every patient a dead link.
    portal: Portal = Field(description="The public patient portal.")
    logging: Logging = Field(default_factory=Logging, description="Log output.")
    metrics: Metrics = Field(default_factory=Metrics, description="Prometheus metrics endpoint.")

    @model_validator(mode="after")
    def _listen_as_the_mode_needs(self) -> Self:
        if self.link.mode == "listen" and self.listen is None:
            raise conflict(
                "listen",
                "required when link.mode is listen (the default); add a listen: section, or "
                "set link.mode: dial_out and list link.portal (recommended: no open port)",
            )
        if self.link.mode == "dial_out" and self.listen is not None:
            raise conflict(
                "listen",
                "not used when link.mode is dial_out: the agent then opens no port and "
                "connects to link.portal itself; delete the listen: section (and close port "
                "1234 in the office firewall), or set link.mode: listen",
            )
        return self

    @property
    def listening(self) -> Listen:
        """The listen: section; only in listen mode (the validator guarantees it is there)."""
        if self.listen is None:
            raise ValueError("link.mode is dial_out: the agent does not listen")
        return self.listen

    @model_validator(mode="after")
    def _portal_tables_apart(self) -> Self:
        if self.practice.system == "openemr" and self.database.portal_name == self.database.name:
            raise conflict(
                "database",
                "database.portal_name must differ from database.name: Portico keeps its own"
                " tables out of the OpenEMR database",
            )
        return self


# --- loading -------------------------------------------------------------------------------------


def load_config(path: Path) -> AgentConfig:
    """Read and validate the file at ``path``.

    Raises OSError when the file cannot be read, and :class:`ConfigInvalid` listing every
    problem (YAML syntax included) when it cannot be used."""
    return parse_config(Path(path).read_bytes())


def parse_config(raw: bytes | str) -> AgentConfig:
    """Validate a config file's content; see :func:`load_config`."""
    return parse_yaml_model(raw, AgentConfig, example=EXAMPLE, sections=SECTIONS)


def named_files(config: AgentConfig) -> list[tuple[str, Path]]:
    """Every file the agent reads besides the config itself: (setting, path). ``run`` reads
    them all before it starts, and ``check`` tests them as the service's user."""
    files = [("tls.key_file", config.tls.key_file), ("tls.cert_file", config.tls.cert_file)]
    if config.database.password_file is not None:
        files.append(("database.password_file", config.database.password_file))
    smtp = config.email.smtp
    if config.email.mode == "smtp" and smtp is not None and smtp.password_file is not None:
        files.append(("email.smtp.password_file", smtp.password_file))
    return files


def unreadable_files(files: list[tuple[str, Path]]) -> list[tuple[str, Path, str]]:
    """(setting, path, reason) for each of ``files`` this process cannot open for reading."""
    problems = []
    for setting, path in files:
        try:
            with open(path, "rb"):
                pass
        except OSError as exc:
            problems.append((setting, path, exc.strerror or str(exc)))
    return problems


CUTOFF_VS_FEE = (
    "these cancel each other out; patients could not cancel online inside the fee window "
    "and no fee would be assessed automatically"
)
NO_EFFECT = "has no effect while allow_cancel_reschedule is false"
_INIT_KEYS = "`portico-agent init-keys {}` creates key.pem and cert.pem in that folder"


def config_warnings(config: AgentConfig) -> list[ConfigProblem]:
    """Things that are allowed but probably not what the office meant (no lines attached)."""
    found: list[tuple[str, str]] = []
    booking = config.booking
    fee = booking.late_cancel_fee_hours
    if not booking.allow_cancel_reschedule:
        for name in ("cancel_cutoff_hours", "late_cancel_fee_hours"):
            if name in booking.model_fields_set and getattr(booking, name) is not None:
                found.append((f"booking.{name}", NO_EFFECT))
    elif fee is not None and booking.cancel_cutoff_hours >= fee:
        # Seed 002: with cutoff >= fee window, no online cancel can ever land inside the window.
        found.append(("booking.cancel_cutoff_hours", CUTOFF_VS_FEE))
    for name in ("key_file", "cert_file"):
        path: Path = getattr(config.tls, name)
        if _missing(path):
            found.append(
                (f"tls.{name}", f"{path} does not exist yet; {_INIT_KEYS.format(path.parent)}")
            )
    return [ConfigProblem(where, None, message) for where, message in found]


def _missing(path: Path) -> bool:
    try:
        path.stat()
    except (FileNotFoundError, NotADirectoryError):
        return True
    except OSError:
        pass  # e.g. a folder only root may read: the file may well be there
    return False
