"""Latency of each evidence source's tools against its real server.

One module per source kind (``bench/sources/<kind>.py``) with a ``measure()``
returning ``Row``s; ``python -m bench.sources`` runs them all and writes
``bench/results/sources.md`` and ``sources.png``.
"""
