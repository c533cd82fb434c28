"""Remove secrets from everything a worker emits: events, logs, tool output, prompts.

Two nets, applied in one pass over each string:

* the exact values the worker was handed (``Redactor.add``), plus their
  URL-encoded and JSON-escaped spellings, because that is how they show up in
  DSNs and serialized payloads;
* common credential shapes the worker was *not* handed but may read from a
  system under diagnosis: bearer tokens, AWS access key ids, PEM private
  keys, ``password=...``-style assignments, userinfo passwords in URLs
  (``postgresql://user:pw@host``), JWTs, Vault/OpenBao tokens, and the
  Nightshift hand-off / grant codes.

Pure and dependency-free. One compiled alternation per kind, rebuilt only
when the known-values set changes; a quick substring check skips the regex
for the common case of a short string with nothing in it.
"""

from __future__ import annotations

import functools
import json
import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote

REDACTED = "[REDACTED]"

# Names whose value is a secret when they appear as a key (mapping key,
# ``key=value``, ``key: value``). Matched at the end of the key so that
# ``max_tokens`` or ``token_count`` are left alone, but ``access_token`` is not.
_SENSITIVE_KEY = (
    r"(?:password|passwd|passphrase|pwd|secret|token|api[_-]?key|apikey|access[_-]?key"
    r"|private[_-]?key|client[_-]?secret|credentials?|auth|authorization|cookie|session[_-]?id)"
)
_SENSITIVE_KEY_RE = re.compile(rf"(?i){_SENSITIVE_KEY}$")
# Short strings whose redaction is remembered, and how many (then forgotten at once).
_MEMO_CHARS = 256
_MEMO_ENTRIES = 4096


@functools.lru_cache(maxsize=1024)
def _sensitive_key(key: str) -> bool:
    """Mapping keys repeat (``kind``, ``seq``, ``data``): each is matched once."""
    return _SENSITIVE_KEY_RE.search(key) is not None


# First letters of the names above: a cheap lookahead rejects most positions
# before the case-insensitive alternation is tried.
_KEY_FIRST = "[PpSsTtAaCc]"


def _whole(match: re.Match[str]) -> str:
    return REDACTED


def _after_prefix(match: re.Match[str]) -> str:
    return match.group(1) + REDACTED


def _assignment(match: re.Match[str]) -> str:
    # Keep the key and the quoting so JSON stays JSON and logs stay readable.
    value = match.group(2)
    quote_char = value[0] if value[:1] in ('"', "'") else ""
    return f"{match.group(1)}{quote_char}{REDACTED}{quote_char}"


# (hints, pattern, replacement). A pattern runs only when one of its hints (a
# lowercase substring every match must contain) is in the string: one regex
# with every shape as an alternative costs ~40 us per log line, because
# Python's engine tries each alternative at each position; gated separate
# passes cost ~1 us on a clean line. Order matters: whole-token shapes first,
# the generic ``key=value`` last, so it sees "[REDACTED]" and leaves it alone.
_SHAPES: tuple[tuple[tuple[str, ...], re.Pattern[str], Any], ...] = (
    (
        ("private key-----",),
        re.compile(
            r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----"
            r"(?:[\s\S]*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----|[A-Za-z0-9+/=\s]*)"
        ),
        _whole,
    ),
    (("eyj",), re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"), _whole),
    (
        ("bearer", "basic"),
        re.compile(r"(?i)\b((?:bearer|basic)\s+)[A-Za-z0-9\-._~+/]{8,}=*"),
        _after_prefix,
    ),
    # A userinfo password in any URL: postgresql://user:pw@host keeps the user.
    (("@",), re.compile(r"\b([A-Za-z][A-Za-z0-9+.\-]*://[^\s:/@]*:)[^\s@/]+(?=@)"), _after_prefix),
    (
        ("s.", "b.", "r."),
        re.compile(r"\b(?:hv[sbr]\.[A-Za-z0-9_\-]{20,}|[sbr]\.[A-Za-z0-9]{24}\b)"),
        _whole,
    ),
    (
        ("akia", "asia", "abia", "acca"),
        re.compile(r"\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b"),
        _whole,
    ),
    (
        ("gh", "xox", "sk-", "glpat-", "nshc_", "nshg_"),
        re.compile(
            r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|xox[abprs]-[A-Za-z0-9-]{10,}"
            r"|sk-(?:ant-)?[A-Za-z0-9_\-]{20,}|glpat-[A-Za-z0-9_\-]{20}|nsh[cg]_[A-Za-z0-9_\-]{20,})"
        ),
        _whole,
    ),
    (
        ("pass", "pwd", "secret", "token", "key", "credential", "auth", "cookie", "session"),
        # Starts at the sensitive word itself (``aws_secret_access_key`` matches from
        # ``access_key``): a leading ``[\w.-]*`` would backtrack on every word.
        re.compile(
            rf"(?i)((?={_KEY_FIRST}){_SENSITIVE_KEY}[\"']?\s*[:=]\s*)"
            r"(\"(?:[^\"\\]|\\.)*\"|'[^']*'"
            r"|(?:bearer|basic|token)\s+(?:\[REDACTED\]|[^\s,;&\"'}\]]+)"
            r"|(?![\[{(])[^\s,;&\"'}\]]+)"
        ),
        _assignment,
    ),
)


def _spellings(value: str) -> set[str]:
    out = {value, quote(value, safe=""), json.dumps(value)[1:-1]}
    return {v for v in out if v}


class Redactor:
    """Thread-safe; ``add`` may be called while other threads redact."""

    def __init__(self, secrets: Iterable[str] = (), *, min_length: int = 4) -> None:
        # Shorter values would shred ordinary text and are not secrets worth the name.
        self._min_length = min_length
        self._lock = threading.Lock()
        self._values: set[str] = set()
        self._known: re.Pattern[str] | None = None
        self._ordered: tuple[str, ...] = ()
        self._memo: dict[str, str] = {}
        self.add(*secrets)

    def add(self, *values: str) -> None:
        """Remember exact secret values (e.g. ``Credential.secret_values()``)."""
        fresh = {
            spelling
            for value in values
            if isinstance(value, str) and len(value) >= self._min_length
            for spelling in _spellings(value)
            if len(spelling) >= self._min_length
        }
        with self._lock:
            if fresh <= self._values:
                return
            self._values |= fresh
            # Longest first so a value containing another is removed whole.
            ordered = sorted(self._values, key=len, reverse=True)
            self._known = re.compile("|".join(re.escape(v) for v in ordered))
            self._ordered = tuple(ordered)
            # What was redacted before this value was known may hold it.
            self._memo = {}

    def redact(self, text: str) -> str:
        # Event bodies repeat the same short strings (tool names, namespaces, kinds,
        # intents) thousands of times per investigation: each is redacted once.
        if len(text) > _MEMO_CHARS:
            return self._redact(text)
        memo = self._memo
        done = memo.get(text)
        if done is None:
            done = self._redact(text)
            if len(memo) >= _MEMO_ENTRIES:
                memo.clear()
            memo[text] = done
        return done

    def _redact(self, text: str) -> str:
        known = self._known
        if known is not None:
            # A substring test per spelling is C-speed; the alternation's scan is
            # not, and almost every string holds none of them.
            for value in self._ordered:
                if value in text:
                    text = known.sub(REDACTED, text)
                    break
        lowered = text.lower()
        for hints, pattern, replacement in _SHAPES:
            for hint in hints:  # a loop, not any(...): no generator per shape
                if hint in lowered:
                    text = pattern.sub(replacement, text)
                    break
        return text

    def redact_obj(self, obj: Any) -> Any:
        """A redacted copy of a JSON-able structure; values under sensitive keys go whole."""
        if isinstance(obj, str):
            return self.redact(obj)
        if isinstance(obj, Mapping):
            out: dict[Any, Any] = {}
            for key, value in obj.items():
                if (
                    isinstance(key, str)
                    and _sensitive_key(key)
                    and isinstance(value, str | int | float | bytes)
                    and not isinstance(value, bool)
                ):
                    out[key] = REDACTED
                else:
                    out[key] = self.redact_obj(value)
            return out
        if isinstance(obj, list):
            return [self.redact_obj(v) for v in obj]
        if isinstance(obj, tuple):
            return tuple(self.redact_obj(v) for v in obj)
        return obj
