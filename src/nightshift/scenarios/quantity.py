"""The simulated world's quantities: millicores and bytes as ints, for sums and percentages.

Parsed by the shared ``nightshift.domain.quantity`` (also behind kubectl describe
and kubectl top), not ``kubernetes.utils.parse_quantity``: importing it loads the
whole kubernetes client (about 460 ms measured here), which every worker running
the simulated world would pay at start-up, against a 400 ms import budget
(bench/startup).
"""

from __future__ import annotations

from nightshift.domain.quantity import parse_quantity

_BINARY = {"Ki": 1024, "Mi": 1024**2, "Gi": 1024**3, "Ti": 1024**4}


def cpu_millis(text: str) -> int:
    return int(parse_quantity(text) * 1000)


def memory_bytes(text: str) -> int:
    return int(parse_quantity(text))


def format_cpu(millis: int) -> str:
    return f"{millis // 1000}" if millis % 1000 == 0 else f"{millis}m"


def format_memory(value: int) -> str:
    for suffix in ("Gi", "Mi", "Ki"):
        factor = _BINARY[suffix]
        if value >= factor and value % factor == 0:
            return f"{value // factor}{suffix}"
    if value >= _BINARY["Mi"]:
        return f"{value // _BINARY['Mi']}Mi"
    return str(value)


def percent(part: int, whole: int) -> int:
    return int(part * 100 / whole) if whole else 0
