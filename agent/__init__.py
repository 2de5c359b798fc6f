"""The on-premise agent: the only program that reads and writes patient data."""

__version__ = "0.1.0"
