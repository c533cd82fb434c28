"""Structured (JSON lines) logging for worker processes, redacted at the source."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from nightshift.observability.redaction import Redactor


class JsonLineFormatter(logging.Formatter):
    """One JSON object per line, tagged with the investigation, secrets removed."""

    def __init__(self, investigation_id: str, redactor: Redactor) -> None:
        super().__init__()
        self._investigation = investigation_id
        self._redactor = redactor

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "investigation": self._investigation,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        agent = getattr(record, "agent", None)
        if isinstance(agent, dict):  # structured agent-level fields (runtime/agent_log.py)
            entry["agent"] = agent
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return self._redactor.redact(json.dumps(entry, ensure_ascii=False))


def configure(investigation_id: str, redactor: Redactor, level: int = logging.INFO) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonLineFormatter(investigation_id, redactor))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
