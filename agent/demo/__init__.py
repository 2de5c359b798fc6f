"""The made-up demo practice `make demo` runs on (`portico-agent seed-demo`, agent/cli/demo.py).

Demo databases only: every seeder refuses a database that already holds what it would write.

- ``practice``: seed_demo, the practice itself (providers, types, patients, appointments);
- ``patients``, ``schedule``: the invented patients, and the providers' hours and bookings;
- ``login``: the demo patient's ready login, and whether it still signs in (scripts/demo.sh);
- ``portal``: the portal content on top: ``records`` (with ``conditions``, the medical
  catalogue), ``messages`` (the welcome thread) and ``forms`` (the intake form).
"""
