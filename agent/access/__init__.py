"""Patient access: portal accounts, sessions, sign-ups and recovery (DESIGN.md "Access rules").

- ``service.py``: :class:`AccessService`, the shared context (``context.py``) with its parts:
  ``sessions.py``, ``enrolment.py`` (invitations), ``registration.py`` (sign-ups),
  ``credentials.py`` (account page, passwords, email changes), and ``recovery.py`` (the
  "forgot password" queue);
- ``queries.py``: the SQL of Portico's own tables (accounts, tokens, sessions); who the
  patients are (name, date of birth, zip, email on file) comes from the practice store
  (agent/store/base.py, :class:`~agent.store.base.Patients`);
- pure rules: ``identifiers.py`` (emails, usernames), ``passwords.py`` (policy and hashing),
  ``charts.py`` (is this person a patient), ``logins.py`` (what access.identity means),
  ``tokens.py``;
- ``staff.py``: what office staff do to accounts (the staff CLI calls it);
- ``link.py``: the ``access.*`` link methods.
"""
