"""Fault tests (issue 7): the agent killed mid-booking, MariaDB restarted under load.

Each checks "nothing lost" against the database and prints its figures (run with -s to see them):
`pytest -s tests/agent/faults tests/proxy/faults`.
"""
