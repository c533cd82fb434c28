"""Kubernetes resource quantities (``250m``, ``1.5``, ``512Mi``, ``2e3``) as exact numbers.

The one parser behind every reader of quantities: the simulated world
(``scenarios.quantity``), ``kubectl describe node`` (``k8s.describe_node``) and
``kubectl top`` (``sources.kubectl_top``). It sits in the domain because those
three are sibling adapters, which may not import each other.

Not ``kubernetes.utils.parse_quantity``, although it reads the same grammar:
importing it loads the whole kubernetes client (about 460 ms measured), which
every worker running the simulated world would pay at start-up, against a
400 ms import budget (bench/startup).
"""

from __future__ import annotations

import re
from decimal import Decimal

_SCALE = {
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "": Decimal(1),
    "k": Decimal(10**3),
    "M": Decimal(10**6),
    "G": Decimal(10**9),
    "T": Decimal(10**12),
    "P": Decimal(10**15),
    "E": Decimal(10**18),
    "Ki": Decimal(2**10),
    "Mi": Decimal(2**20),
    "Gi": Decimal(2**30),
    "Ti": Decimal(2**40),
    "Pi": Decimal(2**50),
    "Ei": Decimal(2**60),
}
# A number, then an exponent or a suffix. "1E" is an exa, "1E3" an exponent: the
# exponent needs digits, so a lone E falls through to the suffix.
_QUANTITY = re.compile(
    r"^([+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+))"
    r"(?:[eE]([+-]?[0-9]+)|(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E))?$"
)


def parse_quantity(value: str | int | float | Decimal) -> Decimal:
    """The quantity's value in base units (cores, bytes); ValueError if it is not one."""
    if isinstance(value, bool):
        raise ValueError(f"not a quantity: {value!r}")
    if isinstance(value, int | float | Decimal):
        return Decimal(str(value))
    m = _QUANTITY.match(value.strip()) if isinstance(value, str) else None
    if m is None:
        raise ValueError(f"not a quantity: {value!r}")
    number, exponent, suffix = m.groups()
    if exponent is not None:
        return Decimal(number).scaleb(int(exponent))
    return Decimal(number) * _SCALE[suffix or ""]
