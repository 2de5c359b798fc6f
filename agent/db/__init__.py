"""The practice database: a bounded PyMySQL pool run in worker threads, and migrations."""

from agent.db.pool import Database, DatabaseSettings, DatabaseUnavailable, is_duplicate_key

__all__ = ["Database", "DatabaseSettings", "DatabaseUnavailable", "is_duplicate_key"]
