"""The on-premise agent: the only program that reads and writes patient data."""
