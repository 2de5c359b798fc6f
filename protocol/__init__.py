"""The link protocol: a sans-IO core plus asyncio and TLS adapters.

Imports nothing from agent or proxy.
"""
