"""Getting a patient to the point a flow starts from: an activated account for the canary
patient (invited and activated over the link, as flow 1 does in the browser), signed in
through the sign-in page."""

from __future__ import annotations

from tests.e2e.canary import CANARY_EMAIL, CANARY_PASSWORD, plant_canary
from tests.e2e.patient_steps import Patient
from tests.e2e.portal_site import Tenant, emailed_link


async def activated_canary(tenant: Tenant) -> None:
    """Patient 1, carrying the canary data, with an active account (password CANARY_PASSWORD)."""
    office = tenant.office
    plant_canary(office)
    await office.staff.invite(1)
    link = emailed_link(await office.one_mail(CANARY_EMAIL), "/activate")
    token = link.split("token=", 1)[1]
    await office.call(
        "access.activate", token=token, date_of_birth="1970-01-01", zip="10001",
        password=CANARY_PASSWORD,
    )  # fmt: skip


async def signed_in_canary(tenant: Tenant, patient: Patient) -> None:
    await activated_canary(tenant)
    await patient.open(tenant.url("/"), "sign-in")
    await patient.sign_in(CANARY_EMAIL, CANARY_PASSWORD)
