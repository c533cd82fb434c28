"""Telling "the storage cannot take writes" apart from a bug.

A read-only or full disk, or a database that is down, is an operational
condition: callers should retry later and readiness should say so. SQLite
and PostgreSQL report these conditions in their own words; this module
names them once.
"""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, OperationalError

READ_ONLY = "the database is read-only"
FULL = "the database's disk is full"
UNAVAILABLE = "the database is unavailable"

# SQLSTATEs (PostgreSQL): 25006 read_only_sql_transaction, 53100 disk_full,
# 53200 out_of_memory, 08xxx connection exceptions, 57P0x shutdown/crash.
_READ_ONLY_STATES = {"25006"}
_FULL_STATES = {"53100"}
_READ_ONLY_WORDS = ("readonly database", "read-only transaction", "read-only file system")
_FULL_WORDS = ("database or disk is full", "no space left on device", "could not extend file")


def storage_problem(exc: BaseException) -> str | None:
    """What keeps the database from taking writes, or ``None`` for any other error."""
    if not isinstance(exc, DBAPIError):
        return None
    orig = exc.orig
    state = str(getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None) or "")
    text = str(orig).lower()
    if state in _READ_ONLY_STATES or any(w in text for w in _READ_ONLY_WORDS):
        return READ_ONLY
    if state in _FULL_STATES or any(w in text for w in _FULL_WORDS):
        return FULL
    if isinstance(exc, OperationalError):  # connection lost, disk I/O error, locked too long
        return UNAVAILABLE
    return None
