"""The demo practice's patients: invented names, dates of birth and contact details, with the
awkward cases an office's records hold (no email, no zip, a family sharing one address, the
same person entered twice with the address typed differently). Every email is at example.org
(RFC 2606) and every phone number in the 555-01xx range kept for fiction."""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta

DAY = timedelta(days=1)

_FIRST_NAMES = (  # noqa: SIM905 -- prose-like lists; literals would run 140 lines
    "Zoë José Chloé Søren Maëlle Björn Ngozi Aoife Siobhán Renée Jürgen Ana Mohammed Fatima "
    "Wei Mei Hiroshi Yuki Olga Dmitri Ravi Ananya Ahmed Leila Kwame Ama Liam Olivia Noah Emma "
    "James Sophia Ethan Ava Lucas Mia Mateo Isabella Elijah Harper Benjamin Grace Henry Evelyn "
    "Jack Abigail Daniel Emily Sebastián Camila Ann Thanh Linh Łucja Ólafur Inès François "
    "Margaret Robert Dorothy Walter Ruth Arthur Nora Omar Yasmin Kai Ingrid"
).split()
_LAST_NAMES = (  # noqa: SIM905
    "Lee, Nguyễn, Trần, García, Martínez, Müller, Schröder, O'Brien, O'Connor, Smith, Johnson, "
    "Williams, Brown, Jones, Miller, Davis, Rodríguez, Hernández, López, González, Wilson, "
    "Anderson, Taylor, Moore, Jackson, Martin, Thompson, White, Harris, Clark, Lewis, Robinson, "
    "Walker, Young, Allen, King, Wright, Scott, Kim, Park, Chen, Wang, Li, Zhang, Patel, Shah, "
    "Singh, Khan, Okonkwo, Adeyemi, Mensah, Kowalski, Nowak, Dvořák, Łukasiewicz, Ødegaard, "
    "Fernández, Pérez, Sánchez, Cohen, Haddad, Nakamura, Tanaka, Ivanova, Petrov, Smith-Jones, "
    "Van der Berg, Bjørnstad"
).split(", ")
_ZIPS = ("02139", "02140", "02141", "02143", "02144", "02145", "02148", "02155", "02474")
# Letters NFKD does not decompose, for the ASCII local part of synthetic addresses.
_ASCII = str.maketrans({"ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "ß": "ss", "æ": "ae", "đ": "d"})


@dataclass(frozen=True, slots=True)
class Patient:
    first_name: str
    last_name: str
    date_of_birth: date
    email: str | None
    home_zip: str | None
    phone: str | None
    created_at: datetime


def _ascii(name: str) -> str:
    folded = unicodedata.normalize("NFKD", name.translate(_ASCII))
    return "".join(c for c in folded.lower() if "a" <= c <= "z") or "patient"


def make_patients(rng: random.Random, count: int, now: datetime) -> list[Patient]:
    first_dob = date(1930, 1, 1)
    last_dob = min(date(2024, 12, 31), now.date())
    people = []
    for number in range(1, count + 1):
        first, last = rng.choice(_FIRST_NAMES), rng.choice(_LAST_NAMES)
        dob = first_dob + timedelta(days=rng.randrange((last_dob - first_dob).days + 1))
        registered = now - timedelta(minutes=rng.randrange(200 * 1440, 4000 * 1440))
        people.append(
            Patient(
                first_name=first,
                last_name=last,
                date_of_birth=dob,
                email=f"{_ascii(first)}.{_ascii(last)}{number}@example.org",
                home_zip=rng.choice(_ZIPS),
                # 555-0100..0199 is the range reserved for fiction.
                phone=None if rng.random() < 0.1 else f"(617) 555-01{rng.randrange(100):02d}",
                created_at=min(now, max(registered, datetime.combine(dob, time(10)) + DAY)),
            )
        )
    order = list(range(count))
    rng.shuffle(order)
    # ~5% without email; ~5% sharing one with family (half of them joining the other half);
    # ~3% a second registration whose email differs only in case or spaces.
    no_email, family, variant = (round(count * share) for share in (0.05, 0.025, 0.03))
    regular = sorted(order[no_email + family + variant :])
    for i in order[:no_email]:
        people[i] = replace(people[i], email=None)
    if regular:
        # A parent and child, or a couple: one household address, one email, one last name.
        for i in order[no_email : no_email + family]:
            head = people[rng.choice(regular)]
            people[i] = replace(
                people[i],
                last_name=head.last_name,
                email=head.email,
                home_zip=head.home_zip,
                phone=head.phone,
            )
        # The same person registered twice, the address typed differently the second time.
        for i in order[no_email + family : no_email + family + variant]:
            original = people[rng.choice(regular)]
            assert original.email is not None
            people[i] = replace(
                original,
                email=_case_variant(rng, original.email),
                created_at=min(now, original.created_at + timedelta(days=rng.randrange(1, 400))),
            )
    for i in rng.sample(range(count), round(count * 0.05)):
        people[i] = replace(people[i], home_zip=None)
    return people


def _case_variant(rng: random.Random, email: str) -> str:
    local, domain = email.split("@")
    titled = ".".join(part[:1].upper() + part[1:] for part in local.split("."))
    return rng.choice(
        (
            f"{titled}@{domain}",
            f"{local}@Example.org",
            f"{titled}@Example.org ",
            f" {email}",
            email.upper(),
            f"{email} ",
        )
    )
