"""Fault tests (issue 7): a proxy replica killed behind HAProxy, 500 slow connections.

Run alone with `pytest -s tests/proxy/faults` to see the figures each test prints.
"""
