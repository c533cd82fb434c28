"""YAML read with libyaml's safe parser when PyYAML was built with it.

The pure-Python parser takes ~100 ms for the fault taxonomy and ~25 ms for the
action catalog, and both are parsed on every worker's start-up path. The C
parser builds the same plain data (the safe subset: no Python objects).
"""

from __future__ import annotations

from typing import Any

import yaml

SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_load(text: str) -> Any:
    return yaml.load(text, Loader=SafeLoader)  # noqa: S506 - a safe loader class
