"""Portal accounts: :class:`AccessService`, the one object agent/wiring.py builds for access.

Its work is done by four parts, each in its own module: ``sessions`` (sign-in, sign-out, the
session check; agent/access/sessions.py), ``enrolment`` (taking up an invitation;
agent/access/enrolment.py), ``registrations`` (sign-ups and their email links;
agent/access/registration.py) and ``credentials`` (the account page, passwords, resets and
email changes; agent/access/credentials.py).

The service itself is thin on purpose, and kept for one reason: the parts share the live
:class:`~agent.access.context.AccessRules`, which a reload replaces in place
(``access.rules = ...`` in ``Agent.apply_live_settings``, agent/daemon.py), and the hasher the
daemon closes at stop. Being that shared :class:`~agent.access.context.AccessContext` itself,
the service gives every part the rules of the moment, and the daemon, the staff actions and the
tests one thing to hold.
"""

from __future__ import annotations

from agent.access.context import AccessContext, AccessRules
from agent.access.credentials import Credentials
from agent.access.enrolment import Enrolment
from agent.access.passwords import PasswordHasher
from agent.access.registration import Registrations
from agent.access.sessions import Sessions
from agent.clock import Clock
from agent.db import Database
from agent.mail.emails import MailTemplates
from agent.store.base import PracticeStore


class AccessService(AccessContext):
    """The shared context of agent.access with its four parts attached."""

    def __init__(
        self,
        db: Database,
        store: PracticeStore,
        rules: AccessRules,
        hasher: PasswordHasher,
        mail: MailTemplates,
        clock: Clock,
    ) -> None:
        super().__init__(db, store, rules, hasher, mail, clock)
        self.sessions = Sessions(self)
        self.enrolment = Enrolment(self)
        self.registrations = Registrations(self)
        self.credentials = Credentials(self)
