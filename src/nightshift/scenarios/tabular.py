"""Column layout the way kubectl's tabwriter does it (3 spaces of padding).

``table`` is the one every tool answer shares (``agent.tools.columns``), named
here too so the simulated world's renderers keep one import for their layout.
"""

from __future__ import annotations

from nightshift.agent.tools.columns import table as table


def labels_text(labels: dict[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items())) or "<none>"
