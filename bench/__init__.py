"""Benchmarks (not tests): each prints a baseline measured in the same run and the ratio to it.

A package so that a bench can import the tests' harness (`tests.support`) the ordinary way:
run them from the repository root as modules, e.g. `.venv/bin/python -m bench.e2e_bench`.
"""
