"""Identifiers.

Investigation ids are time-ordered (a millisecond timestamp, then a
per-process counter, then randomness) so that sorting by id is submission
order: the admission queue is FIFO within a priority without a separate
sequence table, and the order survives restarts.
"""

from __future__ import annotations

import secrets
import threading
import time
import uuid

_lock = threading.Lock()
_last_ms = 0
_counter = 0


def new_id() -> str:
    """A random UUID4 string, for rows whose order does not matter."""
    return str(uuid.uuid4())


def new_ordered_id() -> str:
    """A 32-char lowercase id that sorts in creation order within a process."""
    global _last_ms, _counter
    with _lock:
        ms = time.time_ns() // 1_000_000
        if ms <= _last_ms:
            ms = _last_ms
            _counter += 1
        else:
            _last_ms, _counter = ms, 0
        counter = _counter
    return f"{ms:012x}{counter:06x}{secrets.token_hex(7)}"
