"""Job functions for `itsm worker` tests that need a job stuck where Python cannot interrupt."""

from __future__ import annotations

import sqlite3


def wait_on_a_locked_sqlite(path: str) -> None:
    """Wait in SQLite's C busy loop (up to 300 s) for a lock another connection holds."""
    connection = sqlite3.connect(path, timeout=300, isolation_level=None)
    try:
        connection.execute("BEGIN IMMEDIATE")
    finally:
        connection.close()
