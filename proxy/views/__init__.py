"""The patient's pages. Every route has a name: the access log records it instead of the path,
which can carry a one-time token (/reset?token=...) or an appointment id."""

from __future__ import annotations

from aiohttp import web

from proxy.views import (
    access,
    account,
    appointments,
    booking,
    credentials,
    enrolment,
    forms,
    messages,
    new_message,
    records,
)

_APPOINTMENT = r"/appointments/{appointment_id:[0-9]{1,19}}"
# Thread, attachment and form ids are up to 2^31-1; the handlers check the exact range.
_THREAD = r"/messages/{thread_id:[0-9]{1,10}}"
_FORM = r"/forms/{assignment_id:[0-9]{1,10}}"

ROUTES = [
    web.get("/", access.index, name="index"),
    web.get("/sign-in", access.sign_in_page, name="sign_in_page"),
    web.post("/sign-in", access.sign_in, name="sign_in"),
    web.post("/sign-out", access.sign_out, name="sign_out"),
    web.get("/activate", enrolment.activate_page, name="activate_page"),
    web.post("/activate", enrolment.activate, name="activate"),
    web.get("/register", enrolment.register_page, name="register_page"),
    web.post("/register", enrolment.register, name="register"),
    web.get("/verify", enrolment.verify_page, name="verify_page"),
    web.post("/verify", enrolment.verify, name="verify"),
    web.get("/forgot", credentials.forgot_page, name="forgot_page"),
    web.post("/forgot", credentials.forgot, name="forgot"),
    web.get("/reset", credentials.reset_page, name="reset_page"),
    web.post("/reset", credentials.reset, name="reset"),
    web.get("/confirm-email", credentials.confirm_email_page, name="confirm_email_page"),
    web.post("/confirm-email", credentials.confirm_email, name="confirm_email"),
    web.get("/appointments", appointments.appointments_page, name="appointments"),
    web.get(f"{_APPOINTMENT}/booked", appointments.booked_page, name="booked"),
    web.get(f"{_APPOINTMENT}/calendar.ics", appointments.calendar_file, name="calendar_file"),
    web.get(f"{_APPOINTMENT}/cancel", appointments.cancel_page, name="cancel_page"),
    web.post(f"{_APPOINTMENT}/cancel", appointments.cancel, name="cancel"),
    web.get(f"{_APPOINTMENT}/reschedule", booking.reschedule, name="reschedule_page"),
    web.get(
        f"{_APPOINTMENT}/reschedule/confirm",
        booking.reschedule_confirm_page,
        name="reschedule_confirm_page",
    ),
    web.post(f"{_APPOINTMENT}/reschedule/confirm", booking.reschedule_confirm, name="reschedule"),
    web.get("/book", booking.book, name="book_page"),
    web.get("/book/confirm", booking.book_confirm_page, name="book_confirm_page"),
    web.post("/book/confirm", booking.book_confirm, name="book"),
    web.get("/account", account.account_page, name="account"),
    web.post("/account/password", account.change_password, name="change_password"),
    web.post("/account/email", account.change_email, name="change_email"),
    web.get("/messages", messages.messages_page, name="messages"),
    web.get("/messages/new", new_message.new_message_page, name="message_new"),
    web.post("/messages/new", new_message.start_message, name="message_start"),
    web.get(_THREAD, messages.thread_page, name="message_thread"),
    web.post(f"{_THREAD}/reply", messages.reply, name="message_reply"),
    web.get(
        r"/messages/attachments/{attachment_id:[0-9]{1,10}}",
        messages.attachment,
        name="message_attachment",
    ),
    web.get("/forms", forms.forms_page, name="forms"),
    web.get(_FORM, forms.form_page, name="form"),
    web.post(_FORM, forms.save_form, name="form_save"),
    web.get("/records", records.records_page, name="records"),
    web.get("/records/health-record.json", records.health_record, name="health_record"),
]

# POST routes behind a per-address rate limit, and which limit: sign-in guesses passwords,
# forgot-password and register send email.
RATE_LIMITED = {"sign_in": "sign_in", "forgot": "forgot", "register": "forgot"}
